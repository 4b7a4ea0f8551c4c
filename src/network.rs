//! Who is on the other end of a request: the socket's address, or the client a trusted reverse
//! proxy names in `X-Forwarded-For`. A header from anyone else is ignored, so a student cannot
//! claim to be on the classroom network by typing a header.

use std::net::IpAddr;

use ipnet::IpNet;

/// The client's address. `peer` is the socket's; `forwarded_for` the X-Forwarded-For header(s).
/// The header is read only when `peer` is a trusted proxy, from the right (the entry the
/// nearest proxy wrote), skipping further trusted proxies.
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
        let Ok(ip) = entry.trim().parse::<IpAddr>().map(canonical) else {
            // A malformed entry: nothing to its left can be believed.
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// The network check: the student is on the classroom network when their address equals the
/// teacher's at start, shares its /24 (IPv4) or /64 (IPv6), or lies in one of the configured
/// classroom networks.
pub fn same_network(teacher: IpAddr, student: IpAddr, classroom: &[IpNet]) -> bool {
    let (teacher, student) = (canonical(teacher), canonical(student));
    let shared_prefix = match (teacher, student) {
        (IpAddr::V4(t), IpAddr::V4(s)) => t.octets()[..3] == s.octets()[..3],
        (IpAddr::V6(t), IpAddr::V6(s)) => t.segments()[..4] == s.segments()[..4],
        _ => false,
    };
    shared_prefix || classroom.iter().any(|net| net.contains(&student))
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
        assert_eq!(
            client_ip(ip("10.0.0.1"), Some("garbage"), &trusted),
            ip("10.0.0.1")
        );
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
    fn ipv4_mapped_addresses_are_ipv4() {
        assert_eq!(
            client_ip(ip("::ffff:192.0.2.7"), None, &[]),
            ip("192.0.2.7")
        );
        assert_eq!(client_ip(ip("2001:db8::1"), None, &[]), ip("2001:db8::1"));
    }
}
