# SPDX-License-Identifier: MIT
# Cross build for 32-bit ARM hard-float (Cerbo GX, Venus GX, CCGX, Raspberry
# Pi) with Debian's cross toolchain and the sysroot of
# scripts/cross-bootstrap.sh. Tests run under qemu user emulation.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-linux-gnueabihf-gcc)

if(NOT JK_SYSROOT)
	set(JK_SYSROOT "${CMAKE_CURRENT_LIST_DIR}/../.cross/sysroot-armhf")
endif()
get_filename_component(JK_SYSROOT "${JK_SYSROOT}" ABSOLUTE)
set(JK_SYSROOT "${JK_SYSROOT}" CACHE PATH "armhf sysroot" FORCE)

# Headers and libraries come from the sysroot, the compiler's own libc from
# /usr/arm-linux-gnueabihf.
set(CMAKE_C_FLAGS_INIT "-I${JK_SYSROOT}/usr/include -I${JK_SYSROOT}/usr/include/arm-linux-gnueabihf")
set(CMAKE_EXE_LINKER_FLAGS_INIT
	"-L${JK_SYSROOT}/usr/lib/arm-linux-gnueabihf -L${JK_SYSROOT}/lib/arm-linux-gnueabihf -Wl,-rpath-link,${JK_SYSROOT}/usr/lib/arm-linux-gnueabihf -Wl,-rpath-link,${JK_SYSROOT}/lib/arm-linux-gnueabihf")
set(ENV{PKG_CONFIG_LIBDIR} "${JK_SYSROOT}/usr/lib/arm-linux-gnueabihf/pkgconfig:${JK_SYSROOT}/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_SYSROOT_DIR} "${JK_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH "${JK_SYSROOT}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)

# Cortex-A7 is the Cerbo GX's core; the libraries come from the sysroot.
set(CMAKE_CROSSCOMPILING_EMULATOR "qemu-arm-static;-cpu;cortex-a7;-L;/usr/arm-linux-gnueabihf;-E;LD_LIBRARY_PATH=${JK_SYSROOT}/usr/lib/arm-linux-gnueabihf:${JK_SYSROOT}/lib/arm-linux-gnueabihf")
