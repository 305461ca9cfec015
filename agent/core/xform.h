/*
 * The ESP transforms the agent speaks, one vocabulary for the
 * configuration, the IKE engine (what it proposes and negotiates) and the
 * dataplane (what it runs). Their IOS names are in core/config.h.
 */
#ifndef CORE_XFORM_H
#define CORE_XFORM_H

enum esp_cipher { ESP_CIPHER_AES_CBC, ESP_CIPHER_AES_GCM16, ESP_CIPHER__COUNT };
enum esp_auth { ESP_AUTH_NONE, ESP_AUTH_HMAC_SHA1_96, ESP_AUTH_HMAC_SHA256_128, ESP_AUTH__COUNT };

#endif
