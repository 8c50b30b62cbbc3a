//! The tour's steps and what they share: a server started on a thread of
//! this process, the tour's clients, and the kernel's view at the moments
//! the lesson is about.

pub mod backlog;
pub mod narrator;
pub mod v1;
pub mod v2;
pub mod v3;

use std::net::{SocketAddr, TcpListener};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{Context, Result};
use client::text::shown;
use socket_lesson::kernel::{self, PortView, Stage};
use socket_lesson::peer::{Closed, Peer, PATIENCE};

use narrator::Narrator;

/// Binds a free port on 127.0.0.1 and runs a server's `serve` on a thread
/// named after it.
pub fn start(
    name: &str,
    serve: impl FnOnce(TcpListener) -> Result<()> + Send + 'static,
) -> Result<(JoinHandle<Result<()>>, u16)> {
    let listener = client::net::listen("127.0.0.1", 0, None)?;
    let port = listener.local_addr()?.port();
    let server = thread::Builder::new()
        .name(name.to_string())
        .spawn(move || serve(listener))?;
    Ok((server, port))
}

/// server-v3 with the lesson's options, as its program runs it by default.
pub fn serve_v3(listener: TcpListener) -> Result<()> {
    server_v3::serve(listener, &server_v3::Options::default())
}

/// What the tour expects the kernel to show at a moment of the story.
#[derive(Debug, Default)]
pub struct Expect {
    /// Connections waiting in the accept queue.
    pub waiting: Option<u32>,
    /// Bytes unread in the server side's receive buffer, by client.
    pub unread: Vec<(SocketAddr, u32)>,
    /// Clients whose connection the server has accepted, and clients whose
    /// connection waits in the queue.
    pub accepted: Vec<SocketAddr>,
    pub queued: Vec<SocketAddr>,
}

/// The port's view once the kernel shows what the tour expects, as far as
/// this system reports it: a fact the system does not report is not waited
/// for (the tour says what it knows instead).
pub fn view_when(port: u16, expect: &Expect) -> Result<PortView> {
    let source = kernel::SOURCE;
    let settled = |view: &PortView| {
        let listener = view.listeners.first();
        let queues = !source.reports_queues
            || (expect
                .waiting
                .is_none_or(|waiting| listener.and_then(|l| l.queue.waiting) == Some(waiting))
                && expect.unread.iter().all(|(client, bytes)| {
                    view.connections()
                        .any(|c| c.client == *client && c.server_unread == Some(*bytes))
                }));
        let stage_is = |clients: &[SocketAddr], stage: Stage| {
            clients.iter().all(|client| {
                view.connections()
                    .any(|c| c.client == *client && c.stage == stage)
            })
        };
        let stages = !source.reports_accepted
            || (stage_is(&expect.accepted, Stage::Accepted) && stage_is(&expect.queued, Stage::Queued));
        queues && stages && view.is_consistent()
    };
    let found = kernel::wait_for(PATIENCE, |table| {
        let view = PortView::of(table, port, source);
        settled(&view).then_some(view)
    })?;
    found.with_context(|| format!("the kernel's table never showed what the tour expected: {expect:?}"))
}

/// One of the tour's clients: the lesson's client, narrated.
pub struct Client {
    name: String,
    peer: Peer,
}

impl Client {
    /// Connects to `port` from a port the kernel picks; its lines are
    /// marked with `name`.
    pub fn connect(name: &str, port: u16, tour: &Narrator) -> Result<Client> {
        let peer = Peer::connect(port)?;
        Client::connected(name.to_string(), peer, tour)
    }

    /// Connects to `port` from `local_port` if it is free, else from a port
    /// the kernel picks, and says so; its lines are marked with the port it
    /// really connected from.
    pub fn connect_from(port: u16, local_port: u16, tour: &Narrator) -> Result<Client> {
        let peer = match Peer::connect_from(port, local_port) {
            Ok(peer) => peer,
            Err(_) => {
                let peer = Peer::connect(port)?;
                tour.say(
                    &format!(
                        "(Port {local_port} is in use on this machine, so this client connects from {}, \
                         a port the kernel picked.)",
                        peer.port()
                    ),
                    &format!(
                        "(이 컴퓨터에서 {local_port}번 포트를 이미 쓰고 있어서, 이 클라이언트는 커널이 \
                         고른 {}번 포트에서 접속합니다.)",
                        peer.port()
                    ),
                );
                peer
            }
        };
        Client::connected(peer.port().to_string(), peer, tour)
    }

    /// Says that `peer` connected.
    fn connected(name: String, peer: Peer, tour: &Narrator) -> Result<Client> {
        let server = peer.socket.peer_addr()?;
        tour.client(
            &name,
            &format!("connect() returned: {} -> {server}", peer.address()),
            &format!("connect()가 돌아왔습니다: {} -> {server}", peer.address()),
        );
        Ok(Client { name, peer })
    }

    /// This client's address, as the server and the kernel see it.
    pub fn address(&self) -> SocketAddr {
        self.peer.address()
    }

    /// This client's port.
    pub fn port(&self) -> u16 {
        self.peer.port()
    }

    /// Sends `message`; returns the frame's size in bytes.
    pub fn send(&mut self, message: &str, tour: &Narrator) -> Result<u32> {
        self.say_sends(message, tour);
        Ok(u32::try_from(self.peer.send(message)?)?)
    }

    /// Sends `message`, reads the reply (which must be the lesson's), and
    /// prints it once the server has logged that it sent it.
    pub fn exchange(&mut self, message: &str, tour: &Narrator) -> Result<()> {
        self.say_sends(message, tour);
        let reply = self.peer.exchange(message)?;
        tour.expect_log(&format!("sent: {message} World!"))?;
        tour.client(
            &self.name,
            &format!("received: {}", shown(&reply)),
            &format!("받음: {}", shown(&reply)),
        );
        Ok(())
    }

    /// Says that this client sends `message`: before it is done, so that the
    /// server's log of it comes after.
    fn say_sends(&self, message: &str, tour: &Narrator) {
        tour.client(
            &self.name,
            &format!("sends: {}", shown(message)),
            &format!("보냄: {}", shown(message)),
        );
    }

    /// Listens for `wait`: nothing may arrive.
    pub fn expect_silence(&mut self, wait: Duration, tour: &Narrator) -> Result<()> {
        self.peer
            .silence(wait)
            .with_context(|| format!("client {}", self.name))?;
        let seconds = wait.as_secs_f64();
        tour.client(
            &self.name,
            &format!("no reply after {seconds} s"),
            &format!("{seconds}초가 지나도 응답이 없습니다"),
        );
        Ok(())
    }

    /// Waits for the server to end the connection, and says how.
    pub fn expect_closed(&mut self, tour: &Narrator) -> Result<()> {
        match self
            .peer
            .closed()
            .with_context(|| format!("client {}", self.name))?
        {
            Closed::Eof => tour.client(
                &self.name,
                "the server closed the connection (FIN)",
                "서버가 연결을 닫았습니다 (FIN)",
            ),
            Closed::Reset(error) => tour.client(
                &self.name,
                &format!("the connection was reset (RST): {error}"),
                &format!("연결이 리셋되었습니다 (RST): {error}"),
            ),
        }
        Ok(())
    }
}

/// Where the system does not report a fact the picture is about, the tour
/// says what the kernel holds, which it knows because it made it happen,
/// and the command that shows the table on this system.
pub fn say_what_is_not_reported(tour: &Narrator, port: u16, en: &str, ko: &str) {
    let source = kernel::SOURCE;
    if source.reports_queues && source.reports_accepted {
        return;
    }
    let command = source.command_for(port);
    let system = source.system;
    let missing_ko = if source.reports_queues {
        "어느 연결이 accept되었는지"
    } else {
        "큐의 길이와 읽지 않은 바이트, 어느 연결이 accept되었는지"
    };
    tour.say(
        &format!(
            "{system}'s table does not report everything in this picture: {}. What it does report, \
             `{command}` shows. The kernel holds this now, and the tour knows it because it made it \
             happen: {en}",
            source.not_reported
        ),
        &format!(
            "{system}의 표에는 {missing_ko}가 나오지 않습니다. 표에 나오는 내용은 `{command}`로 볼 수 \
             있습니다. 지금 커널이 가진 것은 다음과 같고, 투어가 직접 한 일이라 알 수 있습니다: {ko}"
        ),
    );
}
