//! Step 4: server-v3, a thread per client; then a crowd against server-v2
//! and server-v3, side by side.

use anyhow::Result;
use socket_lesson::crowd::{Crowd, Report};
use socket_lesson::picture::Known;

use super::narrator::Narrator;
use super::{serve_v3, start, view_when, Client, Expect};

/// The crowd: as many clients, each sending as many messages.
const CROWD_CLIENTS: usize = 20;
const CROWD_MESSAGES: usize = 5;

pub fn run(tour: &Narrator) -> Result<()> {
    tour.heading(
        "Step 4: server-v3, a thread per client",
        "4단계: server-v3, 클라이언트마다 스레드 하나",
    );
    tour.say(
        "server-v3's main thread only accepts. Each client gets its own session thread running \
         server-v2's loop, so each blocking read holds up only its own client.",
        "server-v3의 main 스레드는 accept만 합니다. 클라이언트마다 server-v2의 반복문을 실행하는 \
         세션 스레드가 따로 생기므로, 블로킹 읽기는 자기 클라이언트만 기다리게 합니다.",
    );
    // server-v3 never returns: its thread ends with the tour.
    let (_server, port) = start("server-v3", serve_v3)?;
    tour.expect_log("listening on")?;

    let mut a = Client::connect("A", port, None, tour)?;
    tour.expect_log("connected: client")?;
    let mut b = Client::connect("B", port, None, tour)?;
    tour.expect_log("connected: client")?;
    a.exchange("Hello from A", tour)?;
    b.exchange("Hello from B", tour)?;

    let known = Known {
        queue_order: Vec::new(),
        accepted: vec![(1, a.address()), (2, b.address())],
    };
    let both_served = Expect {
        waiting: Some(0),
        accepted: vec![a.address(), b.address()],
        ..Expect::default()
    };
    tour.picture(&view_when(port, &both_served)?, &known);
    tour.say(
        "Both are answered, each by its own thread: the log names them session-1 and session-2 \
         (server-v3/src/lib.rs, fn serve), and the picture shows a socket in the server for each, \
         and an empty queue: the main thread went straight back to accept().",
        "둘 다 답을 받습니다. 각자 자기 스레드가 처리하며, 로그에 session-1과 session-2로 \
         나옵니다 (server-v3/src/lib.rs의 serve 함수). 그림에는 클라이언트마다 서버의 소켓이 \
         하나씩 있고 큐는 비어 있습니다. main 스레드가 곧바로 accept()로 돌아갔기 때문입니다.",
    );
    a.send("exit", tour)?;
    tour.expect_log("[session-1] session ended")?;
    b.exchange("B again", tour)?;
    tour.say(
        "A's exit ended session-1 alone; B is still served.",
        "A의 exit는 session-1만 끝냈고, B는 계속 응답을 받습니다.",
    );
    b.send("exit", tour)?;
    tour.expect_log("[session-2] session ended")?;

    let crowd = |port| Crowd::new("127.0.0.1", port, CROWD_CLIENTS, CROWD_MESSAGES);
    let timeout = socket_lesson::crowd::DEFAULT_TIMEOUT.as_secs_f64();
    tour.say(
        &format!(
            "Last, a crowd: {CROWD_CLIENTS} clients connect at once and send {CROWD_MESSAGES} messages \
             each, against a fresh server-v2 and a fresh server-v3. A client that hears nothing for \
             {timeout} s gives up: it starved."
        ),
        &format!(
            "마지막으로 클라이언트 {CROWD_CLIENTS}개가 동시에 접속해 각각 메시지 {CROWD_MESSAGES}개를 \
             보냅니다. 새로 띄운 server-v2와 server-v3에 각각 보냅니다. {timeout}초 동안 아무 응답도 \
             받지 못한 클라이언트는 포기합니다. 굶은(starved) 클라이언트입니다."
        ),
    );
    tour.quiet_servers(true);
    let v2 = crowd(start("server-v2", server_v2::serve)?.1)?.run(|_| {})?;
    let v3 = crowd(start("server-v3", serve_v3)?.1)?.run(|_| {})?;
    tour.quiet_servers(false);
    tour.panel("crowd", &side_by_side(&v2, &v3));
    let (en, ko) = what_the_crowd_shows(&v2, &v3);
    tour.say(&en, &ko);
    tour.try_it(&[
        ("cargo run -p server-v3", "terminal 1", "터미널 1"),
        (
            "cargo run --bin crowd -- --clients 20 --messages 5",
            "terminal 2",
            "터미널 2",
        ),
        (
            "docs/side-by-side.sh --v3",
            "all in one tmux window (Linux, macOS)",
            "tmux 창 하나에 모두 (리눅스, macOS)",
        ),
    ]);
    Ok(())
}

/// The crowd's counts, server-v2 beside server-v3.
fn side_by_side(v2: &Report, v3: &Report) -> String {
    let rows = [
        ("clients", v2.clients.to_string(), v3.clients.to_string()),
        ("served", v2.served.to_string(), v3.served.to_string()),
        ("starved", v2.starved.to_string(), v3.starved.to_string()),
        ("replies", v2.replies.to_string(), v3.replies.to_string()),
        (
            "elapsed",
            format!("{:.3} s", v2.elapsed_s),
            format!("{:.3} s", v3.elapsed_s),
        ),
    ];
    let mut table = format!("{:<10}{:>12}{:>12}\n", "", "server-v2", "server-v3");
    for (name, v2_value, v3_value) in rows {
        table += &format!("{name:<10}{v2_value:>12}{v3_value:>12}\n");
    }
    table
}

/// What the crowd's counts say, in words made from the counts themselves.
fn what_the_crowd_shows(v2: &Report, v3: &Report) -> (String, String) {
    let mut en = format!(
        "server-v2 served {} of its {} clients; {} starved, waiting in its accept queue until it \
         closed.",
        v2.served, v2.clients, v2.starved
    );
    let mut ko = format!(
        "server-v2는 클라이언트 {}개 중 {}개만 처리했고, {}개는 서버가 닫힐 때까지 백로그 큐에서 \
         기다리다 굶었습니다.",
        v2.clients, v2.served, v2.starved
    );
    if v3.served == v3.clients {
        en += &format!(" server-v3 served all {}.", v3.clients);
        ko += &format!(" server-v3는 {}개 모두 처리했습니다.", v3.clients);
    } else {
        en += &format!(
            " server-v3 served {} of {}: the others did not get every reply in time, which on a \
             thread per client means this machine ran short (look at its open-file limit, \
             `ulimit -n`).",
            v3.served, v3.clients
        );
        ko += &format!(
            " server-v3는 {}개 중 {}개를 처리했습니다. 나머지는 제시간에 모든 응답을 받지 못했습니다. \
             클라이언트마다 스레드를 두는 서버에서는 이 컴퓨터의 자원이 모자랐다는 뜻입니다(열린 \
             파일 한도 `ulimit -n`을 확인해 보세요).",
            v3.clients, v3.served
        );
    }
    (en, ko)
}
