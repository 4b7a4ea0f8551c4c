//! Who is on the other end of a request: the socket's address, or the client a trusted reverse
//! proxy names in `X-Forwarded-For`. A header from anyone else is ignored, so a student cannot
//! claim to be on the classroom network by typing a header.

use std::net::IpAddr;

use ipnet::IpNet;

/// The address of a client nobody can name: it is never on any classroom network.
pub const UNKNOWN: IpAddr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);

/// One `X-Forwarded-For` entry: an address, with or without a port (`203.0.113.5:1111`,
/// `[2001:db8::1]:443`, as some proxies write them). Anything else (`unknown`, an obfuscated
/// name, garbage) is `None`.
pub fn forwarded_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = entry.parse::<std::net::SocketAddr>() {
        return Some(socket.ip());
    }
    // `[v6]` without a port.
    entry
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|v6| v6.parse::<std::net::Ipv6Addr>().ok())
        .map(IpAddr::V6)
}

/// The client's address. `peer` is the socket's; `forwarded_for` the X-Forwarded-For header(s).
/// The header is read only when `peer` is a trusted proxy, from the right (the entry the
/// nearest proxy wrote), skipping further trusted proxies. An entry that is not an address
/// fails closed: the client is [`UNKNOWN`], never the proxy itself (which may share the
/// classroom's network).
pub fn client_ip(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(&ip));
    if !is_trusted(peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    let mut client = peer;
    for entry in header.rsplit(',') {
        let Some(ip) = forwarded_entry(entry).map(canonical) else {
            // Not an address: who sent the request cannot be known.
            return UNKNOWN;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// Which rule of the network check a student's address met.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NetworkMatch {
    /// The teacher's own /24 (IPv4) or /64 (IPv6) at start.
    TeacherNetwork,
    /// One of the configured classroom networks (`ATTN_CLASSROOM_NETWORKS`), named.
    Classroom(String),
    /// Neither.
    Outside,
}

/// The network check: the student is on the classroom network when their address equals the
/// teacher's at start, shares its /24 (IPv4) or /64 (IPv6), or lies in one of the configured
/// classroom networks.
pub fn same_network(teacher: IpAddr, student: IpAddr, classroom: &[IpNet]) -> bool {
    network_match(teacher, student, classroom) != NetworkMatch::Outside
}

/// Which rule of the network check `student` meets (see [`same_network`]).
pub fn network_match(teacher: IpAddr, student: IpAddr, classroom: &[IpNet]) -> NetworkMatch {
    let (teacher, student) = (canonical(teacher), canonical(student));
    if student.is_unspecified() || teacher.is_unspecified() {
        return NetworkMatch::Outside;
    }
    let shared_prefix = match (teacher, student) {
        (IpAddr::V4(t), IpAddr::V4(s)) => t.octets()[..3] == s.octets()[..3],
        (IpAddr::V6(t), IpAddr::V6(s)) => t.segments()[..4] == s.segments()[..4],
        _ => false,
    };
    if shared_prefix {
        return NetworkMatch::TeacherNetwork;
    }
    classroom
        .iter()
        .find(|net| net.contains(&student))
        .map_or(NetworkMatch::Outside, |net| {
            NetworkMatch::Classroom(net.to_string())
        })
}

/// The part of an address that rate limits count by: the address itself for IPv4, its /64 for
/// IPv6 (one household or phone is handed a whole /64, and could otherwise dodge a limit by
/// changing the low 64 bits at will).
pub fn limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// IPv4 clients reaching an IPv6 socket appear as `::ffff:a.b.c.d`; treat them as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_header_from_an_untrusted_peer_is_ignored() {
        let trusted = nets(&["10.0.0.1/32"]);
        assert_eq!(
            client_ip(ip("203.0.113.9"), Some("10.20.30.40"), &trusted),
            ip("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("203.0.113.9"), Some("10.20.30.40"), &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client() {
        let trusted = nets(&["10.0.0.0/24"]);
        // The client forged the left entry; the proxy appended the real one.
        let header = Some("1.2.3.4, 172.16.5.20");
        assert_eq!(
            client_ip(ip("10.0.0.1"), header, &trusted),
            ip("172.16.5.20")
        );
        // Two proxies in a row.
        let header = Some("172.16.5.20, 10.0.0.7");
        assert_eq!(
            client_ip(ip("10.0.0.1"), header, &trusted),
            ip("172.16.5.20")
        );
        assert_eq!(client_ip(ip("10.0.0.1"), None, &trusted), ip("10.0.0.1"));
    }

    #[test]
    fn entries_with_ports_are_read_and_garbage_fails_closed() {
        let trusted = nets(&["10.0.0.0/24"]);
        let proxy = ip("10.0.0.1");
        assert_eq!(
            client_ip(proxy, Some("203.0.113.5:1111"), &trusted),
            ip("203.0.113.5")
        );
        assert_eq!(
            client_ip(proxy, Some("[2001:db8::7]:443, 10.0.0.7:80"), &trusted),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_ip(proxy, Some("[2001:db8::7]"), &trusted),
            ip("2001:db8::7")
        );
        for garbage in [
            "garbage",
            "unknown",
            "_hidden",
            "",
            "1.2.3.4.5",
            "203.0.113.5:99999",
        ] {
            assert_eq!(
                client_ip(proxy, Some(garbage), &trusted),
                UNKNOWN,
                "{garbage:?}"
            );
        }
        // Nobody whose address is unknown is on a classroom network, however it is drawn.
        let everywhere = nets(&["0.0.0.0/0"]);
        assert!(!same_network(ip("10.0.0.1"), UNKNOWN, &everywhere));
        assert!(!same_network(UNKNOWN, UNKNOWN, &[]));
    }

    #[test]
    fn the_classroom_network_is_the_teachers_24_or_64_or_a_configured_one() {
        let none: Vec<IpNet> = Vec::new();
        assert!(same_network(ip("10.1.2.3"), ip("10.1.2.3"), &none));
        assert!(same_network(ip("10.1.2.3"), ip("10.1.2.250"), &none));
        assert!(!same_network(ip("10.1.2.3"), ip("10.1.3.3"), &none));
        assert!(same_network(
            ip("2001:db8:1:2::10"),
            ip("2001:db8:1:2:ffff::1"),
            &none
        ));
        assert!(!same_network(
            ip("2001:db8:1:2::10"),
            ip("2001:db8:1:3::10"),
            &none
        ));
        assert!(!same_network(ip("10.1.2.3"), ip("2001:db8::1"), &none));
        assert!(same_network(ip("::ffff:10.1.2.3"), ip("10.1.2.9"), &none));
        let campus = nets(&["172.20.0.0/16"]);
        assert!(same_network(ip("10.1.2.3"), ip("172.20.99.1"), &campus));
        assert!(!same_network(ip("10.1.2.3"), ip("172.21.0.1"), &campus));
    }

    #[test]
    fn limits_count_ipv6_clients_by_their_64() {
        assert_eq!(limit_key(ip("203.0.113.5")), "203.0.113.5");
        assert_eq!(limit_key(ip("::ffff:203.0.113.5")), "203.0.113.5");
        assert_eq!(
            limit_key(ip("2001:db8:1:2::10")),
            limit_key(ip("2001:db8:1:2:ffff:ffff:ffff:1"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:2::10")),
            limit_key(ip("2001:db8:1:3::10"))
        );
        assert_eq!(limit_key(ip("2001:db8:1:2::10")), "2001:db8:1:2::/64");
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        assert_eq!(
            client_ip(ip("::ffff:192.0.2.7"), None, &[]),
            ip("192.0.2.7")
        );
        assert_eq!(client_ip(ip("2001:db8::1"), None, &[]), ip("2001:db8::1"));
    }
}
