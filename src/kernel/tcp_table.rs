//! Windows's table of TCP sockets, from the `GetExtendedTcpTable` API.

use super::Source;

/// Windows's table: connections, their states and their processes, but no
/// queue lengths and no unread bytes.
pub const SOURCE: Source = Source {
    system: "Windows",
    read_from: "GetExtendedTcpTable",
    not_reported: "Windows reports no queue lengths and no unread bytes, and not whether a \
                   connection was accepted: only each connection, its state and its process",
    command: "netstat -ano -p TCP | findstr :{port}",
};
