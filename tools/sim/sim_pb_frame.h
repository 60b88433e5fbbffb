/* SPDX-License-Identifier: MIT */
/*
 * The simulator's own encoder for JK PB frames, written apart from the
 * service's codec so that each checks the other: the Modbus CRC, the FC 0x10
 * acknowledgement and the three 300-byte 55 AA EB 90 frames (live data,
 * settings, device info) of one pack, little-endian at the offsets of
 * docs/protocol-pb.md, sealed with the byte-299 sum.
 */
#ifndef SIM_PB_FRAME_H
#define SIM_PB_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "sim_pb.h"

#define SIM_PB_FRAME_LEN 300
#define SIM_PB_ACK_LEN 8

/* The trigger registers and the frame type each answers with. */
#define SIM_PB_REG_INFO 0x161C
#define SIM_PB_REG_SETTINGS 0x161E
#define SIM_PB_REG_LIVE 0x1620
#define SIM_PB_TYPE_SETTINGS 0x01
#define SIM_PB_TYPE_LIVE 0x02
#define SIM_PB_TYPE_INFO 0x03

/* The write registers of the charge and discharge switches (u32, 0/1). */
#define SIM_PB_REG_CHARGE_SWITCH 0x1070
#define SIM_PB_REG_DISCHARGE_SWITCH 0x1074

/* CRC-16/MODBUS of n bytes. */
uint16_t sim_pb_crc(const uint8_t *p, size_t n);

/* The FC 0x10 acknowledgement: addr 10 REG COUNT CRC (8 bytes). */
void sim_pb_ack(uint8_t addr, uint16_t reg, uint16_t count, uint8_t out[SIM_PB_ACK_LEN]);

/* The frames of pack p as it is now (the live frame draws the model's cell
 * noise). */
void sim_pb_encode_live(struct sim_pb_pack *p, uint8_t f[SIM_PB_FRAME_LEN]);
void sim_pb_encode_settings(const struct sim_pb_pack *p, uint8_t f[SIM_PB_FRAME_LEN]);
void sim_pb_encode_info(const struct sim_pb_pack *p, uint8_t f[SIM_PB_FRAME_LEN]);

/* The fake passcodes the device-info frame carries: a service must never
 * show them. */
#define SIM_PB_BLE_PASSCODE "SIMPIN13579"
#define SIM_PB_SETUP_PASSCODE "SIMPWD24680"

#endif
