/*
 * The metric catalogue (METRICS.md): one row per metric, shared by the
 * Prometheus and protobuf encoders and by the collector-stub, which maps
 * received (family, description) pairs back to the same names.
 */
#include "metrics/metrics.h"

#include <assert.h>
#include <string.h>

const char *const metric_type_names[2] = {
	[METRIC_GAUGE] = "Gauge",
	[METRIC_COUNTER] = "Counter",
};

#define G METRIC_GAUGE
#define C METRIC_COUNTER

const struct metric_def metric_defs[M__COUNT] = {
	[M_BUILD_INFO] = { "build", "info", "vpnagent_build_info", G,
		"Build information; always 1.", { "version" } },
	[M_CPU_UTILISATION] = { "cpu", "cpu_utilisation", "vpnagent_cpu_utilisation_ratio", G,
		"Busy share of one CPU over the last sample period (0-1).", { "cpu" } },
	[M_CPU_OVERALL_UTILISATION] = { "cpu", "overall_utilisation",
		"vpnagent_cpu_overall_utilisation_ratio", G,
		"Busy share of all CPUs over the last sample period (0-1).", { NULL } },
	[M_CPU_SECONDS] = { "cpu", "seconds", "vpnagent_cpu_seconds_total", C,
		"Seconds each CPU spent in each mode (from /proc/stat).", { "cpu", "mode" } },
	[M_MEMORY_AVAILABLE] = { "memory", "available_bytes", "vpnagent_memory_available_bytes", G,
		"Memory available for new work (MemAvailable).", { NULL } },
	[M_MEMORY_TOTAL] = { "memory", "total_bytes", "vpnagent_memory_total_bytes", G,
		"Total usable memory (MemTotal).", { NULL } },
	[M_INTERFACE_RECEIVE_BYTES] = { "interface", "receive_bytes",
		"vpnagent_interface_receive_bytes_total", C,
		"Bytes received by a network interface (/proc/net/dev).", { "interface" } },
	[M_INTERFACE_RECEIVE_PACKETS] = { "interface", "receive_packets",
		"vpnagent_interface_receive_packets_total", C,
		"Packets received by a network interface.", { "interface" } },
	[M_INTERFACE_RECEIVE_ERRORS] = { "interface", "receive_errors",
		"vpnagent_interface_receive_errors_total", C,
		"Receive errors of a network interface.", { "interface" } },
	[M_INTERFACE_RECEIVE_DROPS] = { "interface", "receive_drops",
		"vpnagent_interface_receive_drops_total", C,
		"Received packets a network interface dropped.", { "interface" } },
	[M_INTERFACE_TRANSMIT_BYTES] = { "interface", "transmit_bytes",
		"vpnagent_interface_transmit_bytes_total", C,
		"Bytes transmitted by a network interface.", { "interface" } },
	[M_INTERFACE_TRANSMIT_PACKETS] = { "interface", "transmit_packets",
		"vpnagent_interface_transmit_packets_total", C,
		"Packets transmitted by a network interface.", { "interface" } },
	[M_INTERFACE_TRANSMIT_ERRORS] = { "interface", "transmit_errors",
		"vpnagent_interface_transmit_errors_total", C,
		"Transmit errors of a network interface.", { "interface" } },
	[M_INTERFACE_TRANSMIT_DROPS] = { "interface", "transmit_drops",
		"vpnagent_interface_transmit_drops_total", C,
		"Packets to transmit a network interface dropped.", { "interface" } },
	[M_INTERFACE_UP] = { "interface", "up", "vpnagent_interface_up", G,
		"1 while a network interface is operationally up: administratively up and "
		"running (IFF_UP and IFF_RUNNING: operstate up or unknown, so a TUN device "
		"without its reader or a cable-less port is 0).", { "interface" } },
	[M_INTERFACE_MTU] = { "interface", "mtu_bytes", "vpnagent_interface_mtu_bytes", G,
		"MTU of a network interface.", { "interface" } },
	[M_INTERFACE_STATE_TRANSITIONS] = { "interface", "state_transitions",
		"vpnagent_interface_state_transitions_total", C,
		"Changes of vpnagent_interface_up seen between two samples, by the state "
		"entered.", { "interface", "state" } },
	[M_DISK_SIZE] = { "disk", "size_bytes", "vpnagent_disk_size_bytes", G,
		"Size of a mounted filesystem (statvfs f_blocks).", { "mountpoint" } },
	[M_DISK_USED] = { "disk", "used_bytes", "vpnagent_disk_used_bytes", G,
		"Space used on a mounted filesystem (f_blocks - f_bfree, as df shows).",
		{ "mountpoint" } },
	[M_DISK_FREE] = { "disk", "free_bytes", "vpnagent_disk_free_bytes", G,
		"Space of a mounted filesystem available to unprivileged users (f_bavail, as "
		"df shows).", { "mountpoint" } },
	[M_DISK_READS_COMPLETED] = { "disk", "reads_completed",
		"vpnagent_disk_reads_completed_total", C,
		"Reads a block device completed (/proc/diskstats).", { "device" } },
	[M_DISK_WRITES_COMPLETED] = { "disk", "writes_completed",
		"vpnagent_disk_writes_completed_total", C,
		"Writes a block device completed.", { "device" } },
	[M_DISK_READ_BYTES] = { "disk", "read_bytes", "vpnagent_disk_read_bytes_total", C,
		"Bytes read from a block device (sectors of 512 bytes).", { "device" } },
	[M_DISK_WRITTEN_BYTES] = { "disk", "written_bytes", "vpnagent_disk_written_bytes_total",
		C, "Bytes written to a block device (sectors of 512 bytes).", { "device" } },
	[M_DISK_IO_TIME] = { "disk", "io_time_seconds", "vpnagent_disk_io_time_seconds_total", C,
		"Seconds a block device had I/O in flight.", { "device" } },
	[M_PROCESS_CPU_SECONDS] = { "process", "cpu_seconds", "process_cpu_seconds_total", C,
		"Total user and system CPU time spent in seconds.", { NULL } },
	[M_PROCESS_RESIDENT_MEMORY] = { "process", "resident_memory_bytes",
		"process_resident_memory_bytes", G, "Resident memory size in bytes.", { NULL } },
	[M_PROCESS_OPEN_FDS] = { "process", "open_fds", "process_open_fds", G,
		"Number of open file descriptors.", { NULL } },
	[M_PROCESS_START_TIME] = { "process", "start_time_seconds", "process_start_time_seconds", G,
		"Start time of the process since unix epoch in seconds.", { NULL } },
	[M_TELEMETRY_CONNECTED] = { "telemetry", "connected", "vpnagent_telemetry_connected", G,
		"1 while the control and data streams to the collector are up.", { NULL } },
	[M_TELEMETRY_INTERVAL] = { "telemetry", "interval_seconds",
		"vpnagent_telemetry_interval_seconds", G,
		"Streaming interval the collector asked for (0 before a valid request).", { NULL } },
	[M_TELEMETRY_BATCHES_SENT] = { "telemetry", "batches_sent",
		"vpnagent_telemetry_batches_sent_total", C,
		"Metric batches (snapshots) sent to the collector.", { NULL } },
	[M_TELEMETRY_MESSAGES_SENT] = { "telemetry", "messages_sent",
		"vpnagent_telemetry_messages_sent_total", C,
		"DataResponse messages sent (a large batch is split into several).", { NULL } },
	[M_TELEMETRY_METRICS_SENT] = { "telemetry", "metrics_sent",
		"vpnagent_telemetry_metrics_sent_total", C,
		"Metric samples sent to the collector.", { NULL } },
	[M_TELEMETRY_ACKS_RECEIVED] = { "telemetry", "acks_received",
		"vpnagent_telemetry_acks_received_total", C,
		"DataRequest acknowledgements received from the collector.", { NULL } },
	[M_TELEMETRY_CONNECT_ATTEMPTS] = { "telemetry", "connect_attempts",
		"vpnagent_telemetry_connect_attempts_total", C,
		"Attempts to open the streams to the collector.", { NULL } },
	[M_TELEMETRY_RECONNECTS] = { "telemetry", "reconnects", "vpnagent_telemetry_reconnects_total",
		C, "Sessions re-established after a lost or cancelled one.", { NULL } },
	[M_TELEMETRY_CANCELLATIONS] = { "telemetry", "cancellations",
		"vpnagent_telemetry_cancellations_total", C,
		"Stream cancellations requested by the collector.", { NULL } },
	[M_TELEMETRY_ERRORS] = { "telemetry", "errors", "vpnagent_telemetry_errors_total", C,
		"Telemetry errors by type (as in the streaming status).", { "type" } },
	[M_TELEMETRY_BUFFERED_METRICS] = { "telemetry", "buffered_metrics",
		"vpnagent_telemetry_buffered_metrics", G,
		"Metric samples held while the collector is unreachable.", { NULL } },
	[M_TELEMETRY_DROPPED_METRICS] = { "telemetry", "dropped_metrics",
		"vpnagent_telemetry_dropped_metrics_total", C,
		"Metric samples dropped before reaching the collector.", { "reason" } },
	[M_METRICS_SERIES_DROPPED] = { "telemetry", "series_dropped",
		"vpnagent_telemetry_series_dropped_total", C,
		"Series left out of a snapshot by the series cap.", { NULL } },
	[M_TUNNEL_UP] = { "tunnel", "up", "vpnagent_tunnel_up", G,
		"1 while the tunnel of a crypto map entry is up to this peer.", { "peer", "map" } },
	[M_TUNNEL_STATE_TRANSITIONS] = { "tunnel", "state_transitions",
		"vpnagent_tunnel_state_transitions_total", C,
		"Tunnel transitions into each state.", { "peer", "map", "state" } },
	[M_TUNNEL_ACTIVE_PEER] = { "tunnel", "active_peer", "vpnagent_tunnel_active_peer", G,
		"1 for the peer of the failover list the crypto map entry uses now.",
		{ "map", "peer" } },
	[M_TUNNEL_INITIATOR] = { "tunnel", "initiator", "vpnagent_tunnel_initiator", G,
		"1 when the crypto map entry sets its tunnel up itself, 0 when it only answers "
		"(a standby or answer-only gateway, or IPsec off: no --ike-address).", { "map" } },
	[M_IKE_SA_STATE] = { "ike_sa", "state", "vpnagent_ike_sa_state", G,
		"1 for the current state of the ISAKMP SA with the peer.", { "peer", "state" } },
	[M_IKE_SA_ESTABLISHED_TIMESTAMP] = { "ike_sa", "established_timestamp_seconds",
		"vpnagent_ike_sa_established_timestamp_seconds", G,
		"When the current ISAKMP SA was established (0 when none).", { "peer" } },
	[M_IKE_SA_NEGOTIATION_FAILURES] = { "ike_sa", "negotiation_failures",
		"vpnagent_ike_sa_negotiation_failures_total", C,
		"Failed phase-1 or phase-2 negotiations by reason.", { "peer", "reason" } },
	[M_IKE_SA_REKEYS] = { "ike_sa", "rekeys", "vpnagent_ike_sa_rekeys_total", C,
		"ISAKMP SA rekeys.", { "peer" } },
	[M_IKE_DROPPED_MESSAGES] = { "ike", "dropped_messages", "vpnagent_ike_dropped_messages_total",
		C, "Inbound IKE messages dropped, by reason (malformed, replay, bad_hash, "
		"halfopen_limit, ...).", { "reason" } },
	[M_IKE_ERROR_NOTIFIES] = { "ike", "error_notifies_sent", "vpnagent_ike_error_notifies_sent_total",
		C, "Error notifies sent to peers (rate-limited), by type.", { "type" } },
	[M_IKE_HALFOPEN_SAS] = { "ike", "halfopen_sas", "vpnagent_ike_halfopen_sas", G,
		"Responder ISAKMP SAs not yet authenticated (bounded by the half-open limit).",
		{ NULL } },
	[M_RA_CLIENTS] = { "remote_access", "clients", "vpnagent_remote_access_clients", G,
		"Remote-access clients connected through dynamic crypto maps.", { NULL } },
	[M_RA_XAUTH] = { "remote_access", "xauth_attempts", "vpnagent_remote_access_xauth_attempts_total", C,
		"XAUTH attempts by result (ok, failed, rate_limited: dropped over the rate and "
		"retried by the client).", { "result" } },
	[M_RA_POOL_ADDRESSES] = { "remote_access", "pool_addresses", "vpnagent_remote_access_pool_addresses",
		G, "Addresses of an address pool (ip local pool).", { "pool" } },
	[M_RA_POOL_IN_USE] = { "remote_access", "pool_addresses_in_use",
		"vpnagent_remote_access_pool_addresses_in_use", G, "Addresses of a pool leased to clients now.",
		{ "pool" } },
	[M_RA_POOL_EXHAUSTED] = { "remote_access", "pool_exhausted", "vpnagent_remote_access_pool_exhausted_total",
		C, "Clients refused because their pool had no free address.", { "pool" } },
	[M_DPD_R_U_THERE_SENT] = { "dpd", "r_u_there_sent", "vpnagent_dpd_r_u_there_sent_total", C,
		"R-U-THERE probes sent, retransmissions included.", { "peer" } },
	[M_DPD_R_U_THERE_RECEIVED] = { "dpd", "r_u_there_received",
		"vpnagent_dpd_r_u_there_received_total", C, "R-U-THERE probes received.", { "peer" } },
	[M_DPD_R_U_THERE_ACK_SENT] = { "dpd", "r_u_there_ack_sent",
		"vpnagent_dpd_r_u_there_ack_sent_total", C, "R-U-THERE-ACKs sent.", { "peer" } },
	[M_DPD_R_U_THERE_ACK_RECEIVED] = { "dpd", "r_u_there_ack_received",
		"vpnagent_dpd_r_u_there_ack_received_total", C,
		"R-U-THERE-ACKs received with the expected sequence number.", { "peer" } },
	[M_DPD_RETRANSMISSIONS] = { "dpd", "retransmissions", "vpnagent_dpd_retransmissions_total",
		C, "R-U-THERE probes after the first of a round.", { "peer" } },
	[M_DPD_PEER_DEAD_EVENTS] = { "dpd", "peer_dead_events", "vpnagent_dpd_peer_dead_events_total",
		C, "Times the peer was declared dead.", { "peer" } },
	[M_DPD_BAD_SEQUENCE] = { "dpd", "bad_sequence", "vpnagent_dpd_bad_sequence_total", C,
		"R-U-THERE-ACKs ignored for an unexpected sequence number.", { "peer" } },
	[M_DPD_RTT] = { "dpd", "rtt_seconds", "vpnagent_dpd_rtt_seconds", G,
		"Round trip of the last answered probe.", { "peer" } },
	[M_DPD_LAST_ACK_TIMESTAMP] = { "dpd", "last_ack_timestamp_seconds",
		"vpnagent_dpd_last_ack_timestamp_seconds", G,
		"When the last R-U-THERE-ACK arrived (0 when none).", { "peer" } },
	[M_FAILOVER_FAILOVERS] = { "failover", "failovers", "vpnagent_failover_failovers_total", C,
		"Moves to the next peer of a crypto map entry, by reason.", { "map", "reason" } },
	[M_IPSEC_SA_ENCAPS_PACKETS] = { "ipsec_sa", "encaps_packets",
		"vpnagent_ipsec_sa_encaps_packets_total", C, "Packets encapsulated (#pkts encaps).",
		{ "peer", "map" } },
	[M_IPSEC_SA_DECAPS_PACKETS] = { "ipsec_sa", "decaps_packets",
		"vpnagent_ipsec_sa_decaps_packets_total", C, "Packets decapsulated (#pkts decaps).",
		{ "peer", "map" } },
	[M_IPSEC_SA_ENCRYPT_PACKETS] = { "ipsec_sa", "encrypt_packets",
		"vpnagent_ipsec_sa_encrypt_packets_total", C, "Packets encrypted (#pkts encrypt).",
		{ "peer", "map" } },
	[M_IPSEC_SA_DIGEST_PACKETS] = { "ipsec_sa", "digest_packets",
		"vpnagent_ipsec_sa_digest_packets_total", C, "Packets given an ICV (#pkts digest).",
		{ "peer", "map" } },
	[M_IPSEC_SA_DECRYPT_PACKETS] = { "ipsec_sa", "decrypt_packets",
		"vpnagent_ipsec_sa_decrypt_packets_total", C, "Packets decrypted (#pkts decrypt).",
		{ "peer", "map" } },
	[M_IPSEC_SA_VERIFY_PACKETS] = { "ipsec_sa", "verify_packets",
		"vpnagent_ipsec_sa_verify_packets_total", C, "Packets whose ICV verified (#pkts verify).",
		{ "peer", "map" } },
	[M_IPSEC_SA_ENCAPS_BYTES] = { "ipsec_sa", "encaps_bytes",
		"vpnagent_ipsec_sa_encaps_bytes_total", C, "Plaintext bytes encapsulated.",
		{ "peer", "map" } },
	[M_IPSEC_SA_DECAPS_BYTES] = { "ipsec_sa", "decaps_bytes",
		"vpnagent_ipsec_sa_decaps_bytes_total", C, "Plaintext bytes decapsulated.",
		{ "peer", "map" } },
	[M_IPSEC_SA_DROPPED_PACKETS] = { "ipsec_sa", "dropped_packets",
		"vpnagent_ipsec_sa_dropped_packets_total", C, "ESP packets dropped, by reason.",
		{ "peer", "map", "reason" } },
	[M_IPSEC_SA_REKEYS] = { "ipsec_sa", "rekeys", "vpnagent_ipsec_sa_rekeys_total", C,
		"IPsec SA pairs replaced by a rekey.", { "peer", "map" } },
	[M_ESP_DROPPED_PACKETS] = { "esp", "dropped_packets", "vpnagent_esp_dropped_packets_total",
		C, "ESP datagrams dropped before any SA was known (unknown SPI, malformed "
		"header), and TUN packets no SA covers, by reason.", { "reason" } },
	[M_ESP_WORKER_PACKETS] = { "esp", "worker_packets", "vpnagent_esp_worker_packets_total", C,
		"Packets a dataplane worker thread carried: out = TUN to ESP, in = ESP to TUN.",
		{ "worker", "direction" } },
	[M_ESP_TUN_OFFLOAD_FRAMES] = { "esp", "tun_offload_frames",
		"vpnagent_esp_tun_offload_frames_total", C,
		"TUN offloads at work: out = super-packets read and cut into the packets ESP "
		"carries (TSO/USO), in = decrypted TCP segments merged into one write (GRO).",
		{ "direction" } },
	[M_CERTIFICATE_EXPIRY] = { "certificate", "expiry_seconds",
		"vpnagent_certificate_expiry_seconds", G,
		"Seconds until a configured certificate's notAfter (negative once expired), by "
		"use (ike: our certificate, its chain and the trusted CAs; telemetry: the client "
		"certificate and the collector's CA) and subject (RFC 2253).", { "use", "subject" } },
};

#undef G
#undef C

size_t
metric_def_nlabels(const struct metric_def *def)
{
	size_t n = 0;

	while (n < METRIC_LABELS_MAX && def->labels[n] != NULL)
		n++;
	return n;
}

const struct metric_def *
metric_def_lookup(const char *family, const char *description)
{
	for (size_t i = 0; i < M__COUNT; i++) {
		if (strcmp(metric_defs[i].family, family) == 0 &&
		    strcmp(metric_defs[i].description, description) == 0)
			return &metric_defs[i];
	}
	return NULL;
}
