/*
 * ISAKMP (RFC 2408) / IKEv1 (RFC 2409) wire formats: the header, the
 * generic payload chain and each payload we speak, as validate+parse
 * (pure: no I/O, no SA lookup; fuzzable) and as builders on a wbuf.
 * Parsed payloads point into the message buffer; they own nothing.
 */
#ifndef IKE_WIRE_H
#define IKE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define IKE_MSG_MAX        8192	/* largest IKE message we accept or build */
#define IKE_HDR_LEN        28
#define IKE_VERSION        0x10	/* major 1, minor 0 */
#define IKE_COOKIE_LEN     8
#define IKE_PAYLOADS_MAX   32	/* payloads in one message */
#define IKE_PROPOSALS_MAX  8
#define IKE_TRANSFORMS_MAX 16	/* per proposal */
#define IKE_ATTRS_MAX      16	/* per transform */
#define IKE_SPI_MAX        16
#define IKE_DELETE_SPIS_MAX 16

/* Exchange types (RFC 2408 3.1, RFC 2409). */
enum ike_exchange {
	IKE_XCHG_ID_PROT = 2,		/* Main Mode */
	IKE_XCHG_AGGRESSIVE = 4,
	IKE_XCHG_INFORMATIONAL = 5,
	IKE_XCHG_TRANSACTION = 6,	/* Mode Config and XAUTH (draft-dukes-ike-mode-cfg) */
	IKE_XCHG_QUICK = 32,
};

/* Header flags. */
#define IKE_FLAG_ENCRYPTION 0x01
#define IKE_FLAG_COMMIT     0x02
#define IKE_FLAG_AUTH_ONLY  0x04

/* Payload types (RFC 2408 3.1, RFC 3947). */
enum ike_payload_type {
	IKE_PL_NONE = 0, IKE_PL_SA = 1, IKE_PL_PROPOSAL = 2, IKE_PL_TRANSFORM = 3,
	IKE_PL_KE = 4, IKE_PL_ID = 5, IKE_PL_CERT = 6, IKE_PL_CERTREQ = 7, IKE_PL_HASH = 8,
	IKE_PL_SIG = 9, IKE_PL_NONCE = 10, IKE_PL_NOTIFY = 11, IKE_PL_DELETE = 12,
	IKE_PL_VENDOR = 13, IKE_PL_ATTR = 14, IKE_PL_NATD = 20, IKE_PL_NATOA = 21,
};
const char *ike_payload_name(uint8_t type);	/* "SA", "KE", ... or "unknown" */

/* DOI, situation, protocol ids. */
#define IKE_DOI_IPSEC          1
#define IKE_SIT_IDENTITY_ONLY  1
#define IKE_PROTO_ISAKMP       1
#define IKE_PROTO_IPSEC_ESP    3
#define IKE_XFORM_KEY_IKE      1	/* phase-1 transform id KEY_IKE */

#define IKE_ATTR_AF        0x8000	/* attribute format bit: TV, not TLV */

/* Phase-1 attribute types (RFC 2409 Appendix A) and values. */
enum {
	IKE_ATTR_ENCRYPTION = 1, IKE_ATTR_HASH = 2, IKE_ATTR_AUTH = 3, IKE_ATTR_GROUP = 4,
	IKE_ATTR_LIFE_TYPE = 11, IKE_ATTR_LIFE_DURATION = 12, IKE_ATTR_KEY_LENGTH = 14,
};
#define IKE_ENC_DES_CBC   1
#define IKE_ENC_3DES_CBC  5
#define IKE_ENC_AES_CBC   7
#define IKE_HASH_MD5_ID   1
#define IKE_HASH_SHA1_ID  2
#define IKE_HASH_SHA256_ID 4
#define IKE_AUTH_PSK      1
#define IKE_AUTH_XAUTH_INIT_PSK 65001	/* PSK, then XAUTH of the initiator
					 * (draft-beaulieu-ike-xauth 7.2) */
#define IKE_LIFE_SECONDS  1
#define IKE_LIFE_KILOBYTES 2

/* Phase-2 (IPsec DOI, RFC 2407 4.5) attribute types and values. */
enum {
	IPSEC_ATTR_LIFE_TYPE = 1, IPSEC_ATTR_LIFE_DURATION = 2, IPSEC_ATTR_GROUP = 3,
	IPSEC_ATTR_ENCAP_MODE = 4, IPSEC_ATTR_AUTH = 5, IPSEC_ATTR_KEY_LENGTH = 6,
};
#define IPSEC_ESP_AES_CBC     12
#define IPSEC_ESP_AES_GCM_16  20
#define IPSEC_AUTH_HMAC_SHA1  2
#define IPSEC_AUTH_HMAC_SHA256 5
#define IPSEC_ENCAP_TUNNEL    1
#define IPSEC_ENCAP_TRANSPORT 2
#define IPSEC_ENCAP_UDP_TUNNEL    3	/* RFC 3947 */
#define IPSEC_ENCAP_UDP_TRANSPORT 4

/* ID types (RFC 2407 4.6.2.1). */
#define IKE_ID_IPV4_ADDR        1
#define IKE_ID_FQDN             2
#define IKE_ID_IPV4_ADDR_SUBNET 4
#define IKE_ID_DER_ASN1_DN      9

/* Certificate encodings (RFC 2408 3.9): CERT and CERTREQ payloads carry one
 * byte of encoding, then the certificate (DER) or the CA's name (DER). */
#define IKE_CERT_X509_SIG       4

/* Attribute payload (draft-dukes-ike-mode-cfg 3.2): message types. */
#define IKE_CFG_REQUEST 1
#define IKE_CFG_REPLY   2
#define IKE_CFG_SET     3
#define IKE_CFG_ACK     4
/* Its attributes: Mode Config, XAUTH (draft-beaulieu-ike-xauth 6) and
 * Cisco Unity's split tunnel, which strongSwan's unity plugin reads. */
#define IKE_CFG_IP4_ADDRESS   1
#define IKE_CFG_IP4_NETMASK   2
#define IKE_CFG_IP4_DNS       3
#define IKE_CFG_IP4_NBNS      4
#define IKE_CFG_ADDRESS_EXPIRY 5
#define IKE_CFG_APP_VERSION   7
#define IKE_CFG_SUPPORTED     14
#define IKE_XAUTH_TYPE        16520
#define IKE_XAUTH_USER_NAME   16521
#define IKE_XAUTH_USER_PASSWORD 16522
#define IKE_XAUTH_MESSAGE     16524
#define IKE_XAUTH_STATUS      16527
#define IKE_UNITY_BANNER      28672
#define IKE_UNITY_DEF_DOMAIN  28674
#define IKE_UNITY_SPLITDNS_NAME 28675
#define IKE_UNITY_SPLIT_INCLUDE 28676	/* 14 bytes a network: address, mask, 6 zero */
#define IKE_UNITY_LOCAL_LAN   28678
#define IKE_CFG_ATTRS_MAX     32	/* attributes in one payload */

/* Notify types. */
#define IKE_N_INVALID_PAYLOAD_TYPE 1
#define IKE_N_INVALID_COOKIE       4
#define IKE_N_INVALID_EXCHANGE_TYPE 7
#define IKE_N_INVALID_SPI         11
#define IKE_N_NO_PROPOSAL_CHOSEN  14
#define IKE_N_PAYLOAD_MALFORMED   16
#define IKE_N_INVALID_KEY_INFO    17
#define IKE_N_INVALID_ID_INFO     18
#define IKE_N_AUTH_FAILED         24
#define IKE_N_INVALID_CERTIFICATE 20
#define IKE_N_INVALID_CERT_AUTHORITY 22
#define IKE_N_INVALID_SIGNATURE   25
#define IKE_N_INVALID_HASH_INFO   23
#define IKE_N_INITIAL_CONTACT     24578
#define IKE_N_R_U_THERE           36136
#define IKE_N_R_U_THERE_ACK       36137

/*
 *                      1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !                          Initiator                            !
 * !                            Cookie                             !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !                          Responder                            !
 * !                            Cookie                             !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !  Next Payload ! MjVer ! MnVer ! Exchange Type !     Flags     !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !                          Message ID                           !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * !                            Length                             !
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
struct ike_hdr {
	uint8_t  icookie[IKE_COOKIE_LEN];
	uint8_t  rcookie[IKE_COOKIE_LEN];
	uint8_t  next_payload;
	uint8_t  version;		/* 0x10 for IKEv1 */
	uint8_t  exchange;
	uint8_t  flags;
	uint32_t msgid;
	uint32_t length;		/* whole message, header included */
};

/* One generic payload of a chain:
 *  ! Next Payload  !   RESERVED    !         Payload Length        !
 * body/len exclude the 4-byte generic header. */
struct ike_payload {
	uint8_t        type;
	const uint8_t *body;
	size_t         len;
	size_t         offset;	/* of the generic header within the chain */
};

struct ike_chain {
	struct ike_payload pl[IKE_PAYLOADS_MAX];
	size_t             n;
};

/* Header: checks version 1.0, length == datagram length, length >= 28 and
 * <= IKE_MSG_MAX. The body (after the header) is len - 28 bytes. */
int ike_hdr_parse(const uint8_t *msg, size_t len, struct ike_hdr *hdr);
void ike_hdr_put(struct wbuf *w, const struct ike_hdr *hdr);	/* length patched later */

/* Walks a payload chain starting with type `first` over body[0..len).
 * Checks every generic length (>= 4, within bounds) and the count cap;
 * a non-zero reserved byte is tolerated (peers differ). The chain must end
 * exactly at len, except that with `allow_padding` (after decryption) up to
 * 255 trailing bytes of padding may follow the last payload. */
int ike_chain_parse(uint8_t first, const uint8_t *body, size_t len, int allow_padding,
		    struct ike_chain *out);
/* First payload of a type, or NULL. */
const struct ike_payload *ike_chain_find(const struct ike_chain *c, uint8_t type);

/* Data attribute (RFC 2408 3.3): TV (AF=1, 16-bit value) or TLV. */
struct ike_attr {
	uint16_t       type;		/* without the AF bit */
	int            tv;
	uint32_t       value;		/* TV value, or a TLV of 1-4 bytes read as a number */
	const uint8_t *data;		/* TLV bytes */
	size_t         len;
};

struct ike_transform {
	uint8_t         num, id;
	struct ike_attr attrs[IKE_ATTRS_MAX];
	size_t          nattrs;
};

struct ike_proposal {
	uint8_t              num, proto;
	uint8_t              spi_size;
	uint8_t              spi[IKE_SPI_MAX];
	struct ike_transform xf[IKE_TRANSFORMS_MAX];
	size_t               nxf;
};

/* SA payload body: DOI, situation, then proposal payloads (each with its
 * transform payloads). Only DOI IPsec and situation SIT_IDENTITY_ONLY. */
struct ike_sa_pl {
	uint32_t            doi, situation;
	struct ike_proposal props[IKE_PROPOSALS_MAX];
	size_t              nprops;
};

struct ike_id_pl {
	uint8_t        type, proto;
	uint16_t       port;
	const uint8_t *data;
	size_t         len;
};

struct ike_notify_pl {
	uint32_t       doi;
	uint8_t        proto, spi_size;
	uint16_t       type;
	const uint8_t *spi;
	const uint8_t *data;
	size_t         data_len;
};

/* Attribute payload: type, identifier and its attributes (TV or TLV; a
 * TLV may be empty, as a REQUEST's are). */
struct ike_cfg_pl {
	uint8_t         type;		/* IKE_CFG_REQUEST ... IKE_CFG_ACK */
	uint16_t        id;
	struct ike_attr attrs[IKE_CFG_ATTRS_MAX];
	size_t          nattrs;
};

struct ike_delete_pl {
	uint32_t       doi;
	uint8_t        proto, spi_size;
	uint16_t       nspis;
	const uint8_t *spis;		/* nspis * spi_size bytes */
};

/* Per payload: validate lengths/counts/fields, then fill the struct. Each
 * returns 0 or -1 and never reads outside body[0..len). */
int ike_sa_parse(const uint8_t *body, size_t len, struct ike_sa_pl *out);
int ike_id_parse(const uint8_t *body, size_t len, struct ike_id_pl *out);
int ike_notify_parse(const uint8_t *body, size_t len, struct ike_notify_pl *out);
int ike_delete_parse(const uint8_t *body, size_t len, struct ike_delete_pl *out);
int ike_cfg_parse(const uint8_t *body, size_t len, struct ike_cfg_pl *out);
/* The first attribute of a type in a Mode Config payload, or NULL. */
const struct ike_attr *ike_cfg_attr(const struct ike_cfg_pl *c, uint16_t type);
/* KE, nonce, hash, vendor id, NAT-D: the body is the data; these check
 * sizes (KE 1..1024, nonce 8..256 per RFC 2409 5, hash 1..64, NAT-D 1..64). */
int ike_ke_check(size_t len);
int ike_nonce_check(size_t len);
int ike_hash_check(size_t len);
int ike_natd_check(size_t len);

/* Attribute lookup in a transform; 0 when absent (attributes are never 0). */
uint32_t ike_attr_get(const struct ike_transform *t, uint16_t type);

/* Builders: a message is ike_build_begin, then payloads, then
 * ike_build_finish. ike_build_begin needs an empty writer (the header is
 * at offset 0) and writes version 1.0 with next payload 0.
 * ike_pl_begin writes a generic header with next=0 and links the previous
 * payload's (or the header's) next-payload field to this one;
 * ike_pl_end patches the payload length. Misuse (a payload left open,
 * out-of-range sizes) sets w->err, so ike_build_finish returns 0. */
struct ike_builder {
	struct wbuf *w;
	size_t       next_off;		/* where to patch the next-payload type */
	size_t       pl_off;		/* start of the open payload */
};
void ike_build_begin(struct ike_builder *b, struct wbuf *w, const struct ike_hdr *hdr);
void ike_pl_begin(struct ike_builder *b, uint8_t type);
void ike_pl_end(struct ike_builder *b);
/* Convenience: a payload whose body is opaque bytes (KE, nonce, hash, VID, NAT-D). */
void ike_pl_bytes(struct ike_builder *b, uint8_t type, const void *data, size_t len);
/* Attribute writers (TV when the value fits 16 bits and the type allows). */
void ike_attr_put_tv(struct wbuf *w, uint16_t type, uint16_t value);
void ike_attr_put_tlv32(struct wbuf *w, uint16_t type, uint32_t value);	/* life duration */
/* TV when value <= 0xffff (RFC 2409 App. A allows it for variable
 * attributes), else a 4-byte TLV. */
void ike_attr_put(struct wbuf *w, uint16_t type, uint32_t value);
/* SA payload with one proposal of the given transforms (each: id + attrs). */
struct ike_xf_spec {
	uint8_t  id;
	size_t   nattrs;
	struct { uint16_t type; uint32_t value; } attrs[IKE_ATTRS_MAX];
};
void ike_pl_sa(struct ike_builder *b, uint8_t proto, const uint8_t *spi, uint8_t spi_size,
	       const struct ike_xf_spec *xf, size_t nxf);
void ike_pl_id(struct ike_builder *b, uint8_t type, uint8_t proto, uint16_t port,
	       const void *data, size_t len);
void ike_pl_notify(struct ike_builder *b, uint8_t proto, uint16_t type, const void *spi,
		   uint8_t spi_size, const void *data, size_t len);
/* An attribute payload: ike_pl_cfg_begin, then attributes written with
 * ike_attr_put_tv / ike_cfg_put (TLV bytes), then ike_pl_end. */
void ike_pl_cfg_begin(struct ike_builder *b, uint8_t type, uint16_t id);
void ike_cfg_put(struct wbuf *w, uint16_t type, const void *data, size_t len);
void ike_pl_delete(struct ike_builder *b, uint8_t proto, const void *spis, uint8_t spi_size,
		   uint16_t nspis);
/* Sets the header's length field; returns the message length, or 0 if the
 * writer overflowed IKE_MSG_MAX. */
size_t ike_build_finish(struct ike_builder *b);

/* Vendor IDs we send and recognise. */
extern const uint8_t ike_vid_dpd[16];		/* RFC 3706 */
extern const uint8_t ike_vid_natt_rfc3947[16];	/* MD5("RFC 3947") */
extern const uint8_t ike_vid_xauth[8];		/* draft-beaulieu-ike-xauth */
extern const uint8_t ike_vid_unity[16];		/* Cisco Unity 1.0 */
/* 1 when a vendor ID payload body is exactly vid. */
int ike_vid_match(const uint8_t *body, size_t len, const uint8_t vid[static 16]);

#endif
