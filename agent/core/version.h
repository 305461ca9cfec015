/* The version every program reports (build info metric, --version, user agent). */
#ifndef CORE_VERSION_H
#define CORE_VERSION_H
#define VPN_AGENT_VERSION "0.1.0"
#endif
