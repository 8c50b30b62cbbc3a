//! Step 1: the backlog queue, with the tour itself as the server. It listens
//! and calls `accept()` only when the story gets there, so the lesson's
//! pictures can be seen one by one: two connections waiting in the queue
//! before any `accept()`, a message waiting in the receive buffer of a
//! connection no program holds, and `accept()` taking the queue's head.

use std::io::{self, BufReader};
use std::net::{SocketAddr, TcpListener};

use anyhow::{bail, Context, Result};
use client::protocol::read_utf;
use client::text::shown;
use socket_lesson::picture::Known;

use super::narrator::Narrator;
use super::{say_what_is_not_reported, view_when, Client, Expect};

/// The lesson's two clients' ports.
const FIRST_PORT: u16 = 50000;
const SECOND_PORT: u16 = 60000;

pub fn run(tour: &Narrator) -> Result<()> {
    tour.heading(
        "Step 1: the backlog queue, before any accept()",
        "1단계: accept() 전의 백로그 큐",
    );
    tour.say(
        "In this step the tour itself is the server. It opens a server socket and listens, and \
         does not call accept() yet. Everything up to accept() is done by the kernel alone.",
        "이 단계에서는 투어 자신이 서버입니다. 서버 소켓을 열고 리슨만 하며, 아직 accept()를 \
         호출하지 않습니다. accept() 전까지의 일은 모두 커널이 혼자 합니다.",
    );
    let listener = client::net::listen("127.0.0.1", 0, None)?;
    let port = listener.local_addr()?.port();
    let mut known = Known::default();
    tour.picture(&view_when(port, &Expect::default())?, &known);

    let first = Client::connect_from(port, FIRST_PORT, tour)?;
    tour.say(
        "connect() has returned: the two kernels finished the three-way handshake, and the \
         server's kernel put the connection in the server socket's backlog queue. The client's \
         socket exists; the server has no socket object for this connection yet.",
        "connect()가 돌아왔습니다. 두 커널이 3-way 핸드셰이크를 마쳤고, 서버의 커널이 연결을 서버 \
         소켓의 백로그 큐에 넣었습니다. 클라이언트 소켓은 만들어졌지만, 서버에는 아직 이 연결을 위한 \
         소켓 객체가 없습니다.",
    );
    let mut second = Client::connect_from(port, SECOND_PORT, tour)?;
    known.queue_order = vec![first.address(), second.address()];
    let both_queued = Expect {
        waiting: Some(2),
        queued: known.queue_order.clone(),
        ..Expect::default()
    };
    tour.picture(&view_when(port, &both_queued)?, &known);
    tour.say(
        &format!(
            "Both clients are connected, and both connections wait in the queue, in the order \
             their handshakes finished: {} first, then {}. The kernel does not report that order; \
             the tour knows it because it connected them one after the other.",
            first.port(),
            second.port()
        ),
        &format!(
            "두 클라이언트 모두 연결되었고, 두 연결 모두 핸드셰이크가 끝난 순서대로 큐에서 기다립니다. \
             {}번이 먼저, {}번이 그다음입니다. 이 순서는 커널이 알려 주지 않습니다. 투어가 차례로 \
             접속시켰기 때문에 압니다.",
            first.port(),
            second.port()
        ),
    );
    say_what_is_not_reported(
        tour,
        port,
        "two connections in the queue, none accepted.",
        "큐에 연결 두 개, accept된 연결은 없음.",
    );

    let message = "Hello from the second client";
    let sent = second.send(message, tour)?;
    let bytes_waiting = Expect {
        unread: vec![(second.address(), sent)],
        ..both_queued
    };
    tour.picture(&view_when(port, &bytes_waiting)?, &known);
    tour.say(
        &format!(
            "The second client could send though no program holds a socket for its connection: \
             its {sent} bytes (the 2-byte length and the message) wait in the server's receive \
             buffer, in the kernel."
        ),
        &format!(
            "서버에 소켓 객체가 없는데도 두 번째 클라이언트는 메시지를 보낼 수 있었습니다. {sent}바이트\
             (길이 2바이트와 메시지)가 커널 안, 서버의 수신 버퍼에서 기다립니다."
        ),
    );

    tour.say(
        "Now the tour calls accept(). It takes the head of the queue and makes the server's \
         socket object for that connection.",
        "이제 투어가 accept()를 호출합니다. accept()는 큐의 맨 앞 연결을 꺼내 그 연결을 위한 서버의 \
         소켓 객체를 만듭니다.",
    );
    let _first_socket = accept_expecting(&listener, first.address(), tour)?;
    known.queue_order.remove(0);
    known.accepted.push((1, first.address()));
    let first_accepted = Expect {
        waiting: Some(1),
        accepted: vec![first.address()],
        queued: vec![second.address()],
        unread: vec![(second.address(), sent)],
    };
    tour.picture(&view_when(port, &first_accepted)?, &known);
    tour.say(
        &format!(
            "accept() returned the connection from {}, the first to arrive: a queue gives out what \
             came first. The server can now talk to that client through its socket; the other \
             connection still waits in the queue with its bytes.",
            first.port()
        ),
        &format!(
            "accept()는 먼저 도착한 {}번의 연결을 돌려주었습니다. 큐이므로 먼저 온 것부터 꺼냅니다. \
             이제 서버는 이 소켓으로 그 클라이언트와 데이터를 주고받을 수 있습니다. 다른 연결은 \
             바이트를 품은 채 여전히 큐에서 기다립니다.",
            first.port()
        ),
    );

    let second_socket = accept_expecting(&listener, second.address(), tour)?;
    known.queue_order.clear();
    known.accepted.push((2, second.address()));
    // The message was waiting in the receive buffer all along: the first
    // read takes it without waiting.
    let received = read_utf(&mut BufReader::new(&second_socket))?
        .context("the second client closed instead of sending")?;
    if received != message {
        bail!("read {received:?} from the second connection, not the message it sent");
    }
    tour.server(
        &format!("read from socket 2: {}", shown(&received)),
        &format!("소켓 2에서 읽음: {}", shown(&received)),
    );
    let both_accepted = Expect {
        waiting: Some(0),
        accepted: vec![first.address(), second.address()],
        unread: vec![(second.address(), 0)],
        ..Expect::default()
    };
    tour.picture(&view_when(port, &both_accepted)?, &known);

    listener.set_nonblocking(true)?;
    let empty = listener.accept();
    if !matches!(&empty, Err(error) if error.kind() == io::ErrorKind::WouldBlock) {
        bail!("accept() on the empty queue did not say it would block: {empty:?}");
    }
    tour.say(
        "The second accept() returned the other connection, and the first read took its message \
         from the receive buffer at once. The queue is empty now: asked without blocking, accept() \
         says it would block. A blocking accept() here would put the thread to sleep until the \
         kernel finished another handshake.",
        "두 번째 accept()는 나머지 연결을 돌려주었고, 첫 번째 읽기는 수신 버퍼에 있던 메시지를 바로 \
         가져왔습니다. 이제 큐가 비었습니다. 블로킹하지 않게 물어보면 accept()는 블로킹될 것이라고 \
         답합니다. 블로킹 accept()였다면 커널이 다음 핸드셰이크를 마칠 때까지 스레드가 여기서 \
         잠들었을 것입니다.",
    );
    tour.try_it(&[
        (
            "cargo run --bin lab",
            "the server's calls by hand: accept, read, write",
            "서버의 호출을 손으로: accept, read, write",
        ),
        (
            "cargo run -p client --bin client-v2 -- --local-port 50000",
            "a second terminal",
            "두 번째 터미널",
        ),
        (
            "cargo run -p client --bin client-v2 -- --local-port 60000",
            "a third terminal",
            "세 번째 터미널",
        ),
    ]);
    Ok(())
}

/// Calls `accept()` once and checks that it returned the connection from
/// `expected`: the lesson's claim that the queue is taken in order.
fn accept_expecting(
    listener: &TcpListener,
    expected: SocketAddr,
    tour: &Narrator,
) -> Result<std::net::TcpStream> {
    let (socket, client) = listener.accept()?;
    if client != expected {
        bail!("accept() returned the connection from {client}, not from {expected}, the oldest in the queue");
    }
    tour.server(
        &format!("accept() returned a socket for {client}"),
        &format!("accept()가 {client}의 소켓을 돌려주었습니다"),
    );
    Ok(socket)
}
