/* SPDX-License-Identifier: MIT */
/*
 * Plain value types shared by every layer: what one read-all reply of a
 * JK-BMS says, in the wire's integer engineering units (mV, mA, °C, s).
 * Data only, no functions. Conversion to V/A doubles happens at the edges
 * (JSON, D-Bus).
 */
#ifndef BMS_TYPES_H
#define BMS_TYPES_H

#include <stdbool.h>
#include <stdint.h>

/* Largest cell count the protocol's 0x79 block can carry in one frame that
 * still fits the maximum LENGTH (0x160): 3n + 241 <= 0x160 gives n <= 37; we
 * support the 32 cells a JK board can have. */
#define BMS_MAX_CELLS 32

/* The MOSFETs a BMS switches, and the service may switch through it. */
enum bms_fet {
	BMS_FET_CHARGE = 0,
	BMS_FET_DISCHARGE,
	BMS_FET_COUNT
};

/* Temperature sensors that 0x80..0x82 report. */
enum bms_temp {
	BMS_TEMP_MOSFET = 0,
	BMS_TEMP_T1,
	BMS_TEMP_T2,
	BMS_TEMP_COUNT
};

/* Alarm bitmask 0x8B (docs/protocol-4e57.md, "Alarm bits 0x8B"). */
enum bms_alarm_bit {
	BMS_ALARM_LOW_CAPACITY = 1u << 0,
	BMS_ALARM_MOSFET_OVER_TEMP = 1u << 1,
	BMS_ALARM_CHARGE_OVER_VOLTAGE = 1u << 2,
	BMS_ALARM_DISCHARGE_UNDER_VOLTAGE = 1u << 3,
	BMS_ALARM_BATTERY_OVER_TEMP = 1u << 4,
	BMS_ALARM_CHARGE_OVER_CURRENT = 1u << 5,
	BMS_ALARM_DISCHARGE_OVER_CURRENT = 1u << 6,
	BMS_ALARM_CELL_DIFFERENCE = 1u << 7,
	BMS_ALARM_BOX_OVER_TEMP = 1u << 8,
	BMS_ALARM_LOW_TEMP = 1u << 9,
	BMS_ALARM_CELL_OVER_VOLTAGE = 1u << 10,
	BMS_ALARM_CELL_UNDER_VOLTAGE = 1u << 11,
	BMS_ALARM_309_A = 1u << 12,
	BMS_ALARM_309_B = 1u << 13,
};

/* Status bitmask 0x8C (docs/protocol-4e57.md, "Status bits 0x8C"): live FET
 * state, not the switch. */
enum bms_status_bit {
	BMS_STATUS_CHARGE_FET = 1u << 0,
	BMS_STATUS_DISCHARGE_FET = 1u << 1,
	BMS_STATUS_BALANCING = 1u << 2,
	BMS_STATUS_BATTERY_DROPPED = 1u << 3,
};

/* The BMS's own protection settings and configuration (0x8E..0xB3, 0xB8, 0xB9). */
struct bms_settings {
	uint32_t pack_ovp_mv;              /* 0x8E, wire unit 10 mV */
	uint32_t pack_uvp_mv;              /* 0x8F */
	uint16_t cell_ovp_mv;              /* 0x90 */
	uint16_t cell_ovpr_mv;             /* 0x91 */
	uint16_t cell_ovp_delay_s;         /* 0x92 */
	uint16_t cell_uvp_mv;              /* 0x93 */
	uint16_t cell_uvpr_mv;             /* 0x94 */
	uint16_t cell_uvp_delay_s;         /* 0x95 */
	uint16_t cell_diff_prot_mv;        /* 0x96 */
	uint16_t discharge_ocp_a;          /* 0x97 */
	uint16_t discharge_ocp_delay_s;    /* 0x98 */
	uint16_t charge_ocp_a;             /* 0x99 */
	uint16_t charge_ocp_delay_s;       /* 0x9A */
	uint16_t balance_start_mv;         /* 0x9B */
	uint16_t balance_trigger_mv;       /* 0x9C */
	uint8_t balancer_enabled;          /* 0x9D */
	int16_t mosfet_otp_c;              /* 0x9E */
	int16_t mosfet_otpr_c;             /* 0x9F */
	int16_t box_otp_c;                 /* 0xA0 */
	int16_t box_otpr_c;                /* 0xA1 */
	int16_t temp_diff_prot_c;          /* 0xA2 */
	int16_t charge_otp_c;              /* 0xA3 */
	int16_t discharge_otp_c;           /* 0xA4 */
	int16_t charge_utp_c;              /* 0xA5, two's complement on the wire */
	int16_t charge_utpr_c;             /* 0xA6 */
	int16_t discharge_utp_c;           /* 0xA7 */
	int16_t discharge_utpr_c;          /* 0xA8 */
	uint8_t cell_count;                /* 0xA9 */
	uint32_t capacity_ah;              /* 0xAA nominal capacity */
	uint8_t charge_switch;             /* 0xAB enable setting, not the live FET */
	uint8_t discharge_switch;          /* 0xAC */
	uint16_t current_calibration_ma;   /* 0xAD */
	uint8_t board_address;             /* 0xAE */
	uint8_t battery_type;              /* 0xAF 0 LFP, 1 ternary, 2 LTO */
	uint16_t sleep_wait_s;             /* 0xB0 */
	uint8_t low_soc_alarm_pct;         /* 0xB1 */
	uint8_t dedicated_charger;         /* 0xB3 */
	uint8_t start_current_calibration; /* 0xB8, 0 when absent */
	uint32_t actual_capacity_ah;       /* 0xB9, 0 when absent or before fw 10.10 */
};

/* Which family a snapshot came from. */
enum bms_protocol {
	BMS_PROTOCOL_4E57 = 0,
	BMS_PROTOCOL_PB,
};

/* What only a JK PB pack reports (docs/protocol-pb.md), in the frames'
 * units: 0.1 °C, mV, mA, mAh, s. The model's common fields above are
 * filled from it too; these keep the detail. Its two passcodes are never
 * stored here. */
struct bms_pb {
	/* live data frame (type 0x02) */
	uint32_t cell_mask;                  /* bit n: cell n+1 present */
	uint16_t cell_avg_mv, cell_delta_mv; /* as the BMS computed them */
	uint16_t wire_mohm[BMS_MAX_CELLS];   /* balance-wire resistance, mΩ */
	uint32_t wire_alarm_mask;
	uint32_t power_mw;    /* magnitude */
	uint32_t alarm_bits;  /* the vendor's 32-bit alarm mask */
	int16_t temp_dc[6];   /* 0.1 °C: MOSFET, T1, T2, (unused), T4, T5 */
	uint8_t temp_present; /* bit0 MOSFET, bit1 T1 .. bit5 T5 */
	int16_t balance_ma;
	uint8_t balance_action; /* 0 off, 1 charging, 2 discharging */
	int32_t remaining_mah;
	uint32_t full_mah;
	uint32_t cycle_mah;
	uint8_t soh_pct;
	uint8_t precharge;
	uint32_t runtime_s;
	uint16_t release_s[6]; /* discharge OCP, discharge SCP, charge OCP, charge SCP, UVP, OVP */
	uint8_t heater_on;
	int16_t heater_ma;
	uint16_t emergency_s;
	/* settings frame (type 0x01) */
	bool has_settings;
	uint32_t sleep_mv, soc100_mv, soc0_mv, rcv_mv, rfv_mv, power_off_mv;
	uint32_t charge_ocp_ma, discharge_ocp_ma;
	uint32_t charge_ocp_release_s, discharge_ocp_release_s, scp_release_s, scp_delay_us;
	uint32_t balance_max_ma;
	int32_t charge_otp_dc, charge_otpr_dc, discharge_otp_dc, discharge_otpr_dc;
	int32_t charge_utp_dc, charge_utpr_dc, mosfet_otp_dc, mosfet_otpr_dc;
	uint32_t capacity_mah;
	uint32_t address;
	uint32_t precharge_s;
	uint16_t control_bits;
	int8_t heat_start_c, heat_stop_c;
	uint8_t sleep_delay_h;
	/* device-info frame (type 0x03): printable text, NUL-terminated */
	bool has_info;
	char model[17];
	char hardware[9];
	char software[9];
	char name[17];
	char date[9]; /* YYMMDD */
	char serial[17];
	char user_data[17];
	char user_data2[17];
	uint32_t on_time_s;
	uint32_t power_on_count;
	uint8_t uart1_protocol, can_protocol, uart2_protocol;
};

/* One decoded read-all reply. The password (0xB2) is never stored here. */
struct bms_snapshot {
	uint8_t protocol;                /* enum bms_protocol */
	uint8_t cell_count;              /* n = 0x79 length / 3 */
	uint16_t cell_mv[BMS_MAX_CELLS]; /* 0 = missing (open sense lead) */
	int16_t temp_c[BMS_TEMP_COUNT];  /* 0x80..0x82 after the +100 rule */
	uint32_t voltage_mv;             /* 0x83, wire unit 10 mV */
	int32_t current_ma;              /* 0x84, + = charging, wire unit 10 mA */
	uint16_t current_raw;            /* 0x84 as sent, for diagnostics */
	uint8_t soc_pct;                 /* 0x85 */
	uint8_t temp_sensor_count;       /* 0x86 */
	uint8_t temp_missing;            /* bit per enum bms_temp: no reading in the frame (a
					  * family that can say so; 4E 57 frames always have one) */
	uint16_t cycles;                 /* 0x87 */
	uint32_t cycle_capacity_ah;      /* 0x89 */
	uint16_t cell_count_reported;    /* 0x8A */
	uint16_t alarms;                 /* 0x8B, enum bms_alarm_bit */
	uint16_t status;                 /* 0x8C, enum bms_status_bit */
	struct bms_settings settings;
	uint32_t runtime_min;     /* 0xB6 */
	uint8_t protocol_version; /* 0xC0, 0 when absent */
	bool has_extended;        /* frame carried 0xB8..0xC0 (newer firmware) */
	/* Strings: printable ASCII only, NUL-terminated; user texts verbatim, only
	 * 0xB7's trailing '_'/' ' padding stripped. */
	char device_id[9];          /* 0xB4 */
	char manufacturing_date[5]; /* 0xB5 "YYMM" */
	char software_version[16];  /* 0xB7 e.g. "H7.X__S7.1.0H" */
	char manufacturer[25];      /* 0xBA, may be empty */
	struct bms_pb pb;           /* PB packs only (protocol BMS_PROTOCOL_PB) */
};

#endif /* BMS_TYPES_H */
