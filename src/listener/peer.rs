//! Who is calling a listener: the peer's address, and (for a listener that must know, such as
//! a sign-in's) the local user that owns the connection, looked up while it is accepted.

use std::net::{IpAddr, SocketAddr};

/// Who is on the other end of a connection.
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// The user behind it, looked up when the connection was accepted (a listener started
    /// with `identify`; [`PeerUser::Untold`] otherwise).
    pub(super) user: PeerUser,
}

/// The user behind a peer, as far as the system tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub enum PeerUser {
    /// The user broker runs as.
    Own,
    /// Another user, by uid.
    Other(u32),
    /// Not found: the client's socket was no longer open, with an owner, when its connection
    /// was accepted (closed or reset at once). It cannot be shown to be this user's.
    Unknown,
    /// This system does not say who owns a socket (macOS, Windows), or the listener did not
    /// ask.
    Untold,
}

impl PeerUser {
    /// Who a connection that is not this user's was, for messages.
    pub fn who(self) -> String {
        match self {
            PeerUser::Other(uid) => format!("another local user (uid {uid})"),
            PeerUser::Unknown => {
                "a local connection whose owner could not be found (it closed at once)".into()
            }
            PeerUser::Own | PeerUser::Untold => "a local connection".into(),
        }
    }
}

impl Peer {
    /// Which user owns the client's socket, as looked up when the connection was accepted.
    pub fn user(&self) -> PeerUser {
        self.user
    }
}

/// The owner of the client socket at `client`, connected to `server`: on Linux from the
/// kernel's socket tables (`/proc/net/tcp`), where only a live socket (established, with an
/// inode) counts; a socket closed or reset by then has no owner left to show.
pub(super) fn identify(client: SocketAddr, server: SocketAddr) -> PeerUser {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: geteuid cannot fail and touches nothing.
        let own = unsafe { libc::geteuid() };
        match socket_owner(client, server) {
            Some(uid) if uid == own => PeerUser::Own,
            Some(uid) => PeerUser::Other(uid),
            None => PeerUser::Unknown,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (client, server);
        PeerUser::Untold
    }
}

/// The uid owning the client socket `client` connected to `server`, from the kernel's socket
/// tables. Every user can read them; they list each socket's owner.
#[cfg(target_os = "linux")]
fn socket_owner(client: SocketAddr, server: SocketAddr) -> Option<u32> {
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .find_map(|table| {
            let text = std::fs::read_to_string(table).ok()?;
            owner_in_table(&text, client, server)
        })
}

/// Finds the live socket whose local end is `client` and remote end is `server` in the text of
/// `/proc/net/tcp` or `/proc/net/tcp6`, and returns its uid. Live: established (`01`) and
/// open in a process (a non-zero inode); the kernel shows a closed socket that lingers
/// (TIME_WAIT, an orphan in FIN_WAIT) as owned by uid 0 or without an inode.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn owner_in_table(table: &str, client: SocketAddr, server: SocketAddr) -> Option<u32> {
    const ESTABLISHED: &str = "01";
    table.lines().skip(1).find_map(|line| {
        // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout
        // inode …
        let fields: Vec<&str> = line.split_whitespace().collect();
        let local = table_address(fields.get(1)?)?;
        let remote = table_address(fields.get(2)?)?;
        let live = *fields.get(3)? == ESTABLISHED && *fields.get(9)? != "0";
        if local == client && remote == server && live {
            fields.get(7)?.parse().ok()
        } else {
            None
        }
    })
}

/// `0100007F:1F90` (IPv4) or 32 hex digits and a port (IPv6; v4-mapped addresses become
/// IPv4). The kernel prints each 32-bit word of the address as a number in host byte order.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn table_address(field: &str) -> Option<SocketAddr> {
    let (ip, port) = field.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    for i in (0..ip.len()).step_by(8) {
        let word = u32::from_str_radix(ip.get(i..i + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_ne_bytes());
    }
    let ip = match bytes.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?),
        16 => {
            let v6 = std::net::Ipv6Addr::from(<[u8; 16]>::try_from(bytes).ok()?);
            v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4)
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_endian = "little")]
    #[test]
    fn socket_tables_are_read() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:9C40 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 65534        0 1 1 ffff 20 4 0 10 -1\n\
           1: 0100007F:1F90 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 2 1 ffff 20 4 0 10 -1\n";
        let client: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let server: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        assert_eq!(owner_in_table(table, client, server), Some(65534));
        assert_eq!(owner_in_table(table, server, client), Some(0));
        assert_eq!(
            owner_in_table(table, "127.0.0.1:1".parse().unwrap(), server),
            None
        );
        // Closed sockets that linger: in TIME_WAIT (shown as uid 0), an orphan without inode.
        let lingering = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
           0: 0100007F:9C40 0100007F:1F90 06 00000000:00000000 03:00001000 00000000     0        0 0 3 ffff\n\
           1: 0100007F:9C41 0100007F:1F90 05 00000000:00000000 00:00000000 00000000 65534        0 0 1 ffff\n";
        assert_eq!(owner_in_table(lingering, client, server), None);
        let other: SocketAddr = "127.0.0.1:40001".parse().unwrap();
        assert_eq!(owner_in_table(lingering, other, server), None);
        let v6 = "0000000000000000FFFF00000100007F:1F90";
        assert_eq!(table_address(v6), Some(server));
        assert_eq!(table_address("zz:1"), None);
        assert_eq!(table_address("0100007F"), None);
    }
}
