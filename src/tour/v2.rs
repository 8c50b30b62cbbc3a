//! Step 3: the lesson's problem. server-v2 serves A alone; B connects and
//! sends, and is never answered.

use std::time::Duration;

use anyhow::Result;
use socket_lesson::picture::Known;

use super::narrator::Narrator;
use super::{say_what_is_not_reported, start, view_when, Client, Expect};

pub fn run(tour: &Narrator) -> Result<()> {
    tour.heading(
        "Step 3: server-v2, one client at a time",
        "3단계: server-v2, 한 번에 한 클라이언트",
    );
    tour.say(
        "server-v2 accepts one client, then loops on it alone. It has two blocking calls, accept() \
         and read_utf(), and one thread to make them.",
        "server-v2는 클라이언트 하나를 accept한 뒤 그 클라이언트와만 반복해서 대화합니다. \
         블로킹 호출은 accept()와 read_utf() 두 개인데, 스레드는 하나뿐입니다.",
    );
    let (server, port) = start("server-v2", server_v2::serve)?;
    tour.expect_log("listening on")?;

    let mut a = Client::connect("A", port, tour)?;
    tour.expect_log("connected: client")?;
    a.exchange("Hello from A", tour)?;

    tour.say(
        "Now client B connects. connect() returns at once: the kernel finished B's three-way \
         handshake by itself and put the connection in the server socket's backlog queue. \
         server-v2 never calls accept() again, so no socket object for B exists in the server.",
        "이제 클라이언트 B가 접속합니다. connect()는 바로 돌아옵니다. 커널이 스스로 3-way \
         핸드셰이크를 끝내고 연결을 서버 소켓의 백로그 큐(accept 큐)에 넣었기 때문입니다. \
         server-v2는 다시 accept()를 호출하지 않으므로, 서버에는 B를 위한 소켓 객체가 없습니다.",
    );
    let mut b = Client::connect("B", port, tour)?;
    let sent = b.send("Hello from B", tour)?;

    // The picture once the kernel shows B's bytes, where it reports them.
    let known = Known {
        queue_order: vec![b.address()],
        accepted: vec![(1, a.address())],
    };
    let b_waiting = Expect {
        waiting: Some(1),
        unread: vec![(b.address(), sent)],
        accepted: vec![a.address()],
        queued: vec![b.address()],
    };
    let view = view_when(port, &b_waiting)?;
    tour.panel("peek", &view.table(tour.lang()));
    tour.picture(&view, &known);
    tour.say(
        &format!(
            "The kernel's table, as peek shows it, and the same drawn as the lesson's picture: A \
             has a socket in the server, B waits in the queue with its {sent} bytes, the 2-byte \
             length and the message, unread in the server's receive buffer."
        ),
        &format!(
            "peek이 보여 주는 커널의 표와, 같은 내용을 수업의 그림으로 그린 것입니다. A는 서버에 \
             소켓이 있고, B는 큐에서 기다리며 B가 보낸 {sent}바이트(길이 2바이트와 메시지)는 서버의 \
             수신 버퍼에 읽히지 않은 채 있습니다."
        ),
    );
    say_what_is_not_reported(
        tour,
        port,
        "A accepted by server-v2, B in the queue with its bytes.",
        "A는 server-v2가 accept했고, B는 보낸 바이트와 함께 큐에 있음.",
    );

    a.exchange("A again", tour)?;
    b.expect_silence(Duration::from_secs(1), tour)?;
    tour.say(
        "A is answered; B is not. server-v2's only thread is inside session(), blocked in A's \
         read_utf() (server-v2/src/lib.rs, fn session), and never comes back to accept().",
        "A는 답을 받고 B는 받지 못합니다. server-v2의 유일한 스레드는 session() 안에서 A의 \
         read_utf()에 블로킹되어 있고 (server-v2/src/lib.rs의 session 함수), accept()로 \
         돌아가지 않습니다.",
    );

    a.send("exit", tour)?;
    let result = server.join().expect("server-v2's thread");
    tour.expect_log("closing")?;
    result?;
    b.expect_closed(tour)?;
    tour.say(
        "A said exit, so serve() returned and closed the server socket. The kernel reset B's \
         connection, still in the queue and never accepted: B was never served.",
        "A가 exit를 보내자 serve()가 끝나며 서버 소켓을 닫았습니다. 커널은 큐에 남아 있던, 한 번도 \
         accept되지 않은 B의 연결을 리셋했습니다. B는 끝내 응답을 받지 못했습니다.",
    );
    tour.try_it(&[
        ("cargo run -p server-v2", "terminal 1", "터미널 1"),
        (
            "cargo run -p client --bin client-v2 -- --local-port 50000",
            "terminal 2: answered",
            "터미널 2: 응답을 받음",
        ),
        (
            "cargo run -p client --bin client-v2 -- --local-port 60000",
            "terminal 3: never answered",
            "터미널 3: 응답을 받지 못함",
        ),
        (
            "cargo run --bin peek -- --picture --watch",
            "terminal 4: the picture, redrawn",
            "터미널 4: 그림을 계속 다시 그림",
        ),
    ]);
    Ok(())
}
