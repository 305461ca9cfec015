# make install / make uninstall, included from the Makefile.
#
#   make install                     build/ (built if needed) into /usr/local
#   make install PREFIX=/usr DESTDIR=/tmp/pkg
#   make install BUILD=build/san DESTDIR=/tmp/t   binaries as they are in build/san
#
# Given BUILD (command line or environment), the binaries are taken as they
# are and never rebuilt: a rebuild there would use this invocation's flags,
# not the ones the tree was built with (build/san is a SAN=1 tree).
#
# The state dir /var/lib/vpn-agent is not installed: systemd's
# StateDirectory= creates it at each start (mode 0700, owned by the unit's
# dynamic user, which only exists then), and the agent makes it itself
# (mkdir 0700) when run by hand. make uninstall leaves it: it is data.

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
SBINDIR    ?= $(PREFIX)/sbin
DATADIR    ?= $(PREFIX)/share
MANDIR     ?= $(DATADIR)/man
DOCDIR     ?= $(DATADIR)/doc/vpn-agent
# /etc and /lib/systemd/system for a distribution prefix, else under PREFIX
# (systemd also reads /usr/local/lib/systemd/system).
SYSCONFDIR ?= $(if $(filter /usr,$(PREFIX)),/etc,$(PREFIX)/etc)
UNITDIR    ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)

INSTALL    ?= install

# files installed, as "source destination mode"
INSTALL_FILES := \
	$(BUILD)/vpn-agent        $(SBINDIR)/vpn-agent                  0755 \
	$(BUILD)/vpnctl           $(BINDIR)/vpnctl                      0755 \
	$(BUILD)/collector-stub   $(BINDIR)/collector-stub              0755 \
	certs/gen-certs.sh        $(BINDIR)/vpn-agent-gen-certs         0755 \
	docs/man/vpn-agent.8      $(MANDIR)/man8/vpn-agent.8            0644 \
	docs/man/vpnctl.1         $(MANDIR)/man1/vpnctl.1               0644 \
	docs/man/collector-stub.1 $(MANDIR)/man1/collector-stub.1       0644 \
	README.md                 $(DOCDIR)/README.md                   0644 \
	docs/api.md               $(DOCDIR)/api.md                      0644 \
	docs/collector-stub.md    $(DOCDIR)/collector-stub.md           0644 \
	deploy/prometheus/prometheus.yml           $(DOCDIR)/prometheus/prometheus.yml           0644 \
	deploy/prometheus/vpn-agent-alerts.yml     $(DOCDIR)/prometheus/vpn-agent-alerts.yml     0644 \
	deploy/prometheus/vpn-agent-alerts.test.yml $(DOCDIR)/prometheus/vpn-agent-alerts.test.yml 0644 \
	deploy/grafana/vpn-agent.json              $(DOCDIR)/grafana/vpn-agent.json              0644 \
	deploy/grafana/README.md                   $(DOCDIR)/grafana/README.md                   0644
UNIT_SRC   := deploy/systemd/vpn-agent.service
UNIT_DEST  := $(UNITDIR)/vpn-agent.service

ifneq ($(filter command line environment,$(origin BUILD)),)
INSTALL_PREREQS :=
else
INSTALL_PREREQS := $(PROGRAMS)
endif

.PHONY: install uninstall install-check-binaries

install-check-binaries: $(INSTALL_PREREQS)
	@for f in $(PROGRAMS); do \
		[ -x "$$f" ] || { echo "install: $$f missing: run make BUILD=$(BUILD) first" >&2; exit 1; }; \
	done

install: install-check-binaries
	@set -e; set -- $(INSTALL_FILES); \
	while [ $$# -gt 0 ]; do \
		echo "  INSTALL $$2"; \
		$(INSTALL) -D -m $$3 "$$1" "$(DESTDIR)$$2"; \
		shift 3; \
	done
	@echo "  INSTALL $(UNIT_DEST)"
	@$(INSTALL) -d -m 0755 "$(DESTDIR)$(UNITDIR)"
	@# The unit names /usr/sbin and /etc; point it at this install's dirs.
	@sed -e 's|/usr/sbin/vpn-agent|$(SBINDIR)/vpn-agent|g' \
	     -e 's|/etc/default/vpn-agent|$(SYSCONFDIR)/default/vpn-agent|g' \
	     $(UNIT_SRC) >"$(DESTDIR)$(UNIT_DEST).tmp"
	@chmod 0644 "$(DESTDIR)$(UNIT_DEST).tmp"
	@mv -f "$(DESTDIR)$(UNIT_DEST).tmp" "$(DESTDIR)$(UNIT_DEST)"

uninstall:
	@set -e; set -- $(INSTALL_FILES) $(UNIT_SRC) $(UNIT_DEST) 0644; \
	while [ $$# -gt 0 ]; do \
		echo "  RM      $$2"; \
		rm -f "$(DESTDIR)$$2"; \
		shift 3; \
	done
	@# our own folders, only when nothing else is left in them
	@for d in "$(DESTDIR)$(DOCDIR)/prometheus" "$(DESTDIR)$(DOCDIR)/grafana" "$(DESTDIR)$(DOCDIR)"; do \
		[ ! -d "$$d" ] || rmdir --ignore-fail-on-non-empty "$$d"; \
	done
