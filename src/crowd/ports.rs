//! The local ports each system gives outgoing connections: a crowd needs
//! one per client.

/// The local ports this system gives outgoing connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct PortRange {
    pub(super) first: u16,
    pub(super) last: u16,
    /// Where the range comes from, for messages.
    pub(super) source: &'static str,
}

impl PortRange {
    /// How many ports the range holds.
    pub(super) fn count(&self) -> usize {
        usize::from(self.last) - usize::from(self.first) + 1
    }
}

/// Linux's range, as the system says it now.
#[cfg(target_os = "linux")]
pub(super) fn ephemeral_ports() -> PortRange {
    const SOURCE: &str = "/proc/sys/net/ipv4/ip_local_port_range";
    std::fs::read_to_string(SOURCE)
        .ok()
        .and_then(|text| parse_port_range(&text))
        .map_or(
            PortRange {
                first: 32768,
                last: 60999,
                source: "Linux's default range",
            },
            |(first, last)| PortRange {
                first,
                last,
                source: SOURCE,
            },
        )
}

/// `/proc/sys/net/ipv4/ip_local_port_range`: two numbers, first and last.
#[cfg(any(target_os = "linux", test))]
fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    let mut numbers = text.split_whitespace().map(str::parse::<u16>);
    let (first, last) = (numbers.next()?.ok()?, numbers.next()?.ok()?);
    (first <= last).then_some((first, last))
}

/// macOS's range, from its sysctls; the default if they cannot be read.
#[cfg(target_os = "macos")]
pub(super) fn ephemeral_ports() -> PortRange {
    fn sysctl(name: &std::ffi::CStr) -> Option<u16> {
        u16::try_from(client::net::sysctl_int(name)?).ok()
    }
    match (
        sysctl(c"net.inet.ip.portrange.first"),
        sysctl(c"net.inet.ip.portrange.last"),
    ) {
        (Some(first), Some(last)) if first <= last => PortRange {
            first,
            last,
            source: "sysctl net.inet.ip.portrange",
        },
        _ => PortRange {
            first: 49152,
            last: 65535,
            source: "macOS's default range",
        },
    }
}

/// Windows' default dynamic range (and IANA's, which other systems follow).
#[cfg(not(any(target_os = "linux", target_os = "macos")))]
pub(super) fn ephemeral_ports() -> PortRange {
    PortRange {
        first: 49152,
        last: 65535,
        source: if cfg!(windows) {
            "Windows' default; `netsh int ipv4 show dynamicport tcp` shows this machine's"
        } else {
            "IANA's dynamic range"
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_range_is_read_as_the_kernel_writes_it() {
        assert_eq!(parse_port_range("32768\t60999\n"), Some((32768, 60999)));
        assert_eq!(parse_port_range("1024 1024"), Some((1024, 1024)));
        assert_eq!(parse_port_range("60999 32768"), None);
        assert_eq!(parse_port_range("32768"), None);
        assert!(ephemeral_ports().count() >= 1);
    }
}
