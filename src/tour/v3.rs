//! Step 4: server-v3, a thread per client; then a crowd against server-v2
//! and server-v3, side by side.

use anyhow::Result;
use socket_lesson::crowd::{Crowd, Report};
use socket_lesson::picture::Known;

use unicode_width::UnicodeWidthStr;

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

    let mut a = Client::connect("A", port, tour)?;
    tour.expect_log("connected: client")?;
    let mut b = Client::connect("B", port, tour)?;
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
             each, against a fresh server-v2 and a fresh server-v3. A client that never gets a reply \
             starved: either it waited {timeout} s and gave up, or the server ended its connection \
             without answering once. The table counts the two apart."
        ),
        &format!(
            "마지막으로 클라이언트 {CROWD_CLIENTS}개가 동시에 접속해 각각 메시지 {CROWD_MESSAGES}개를 \
             보냅니다. 새로 띄운 server-v2와 server-v3에 각각 보냅니다. 응답을 한 번도 받지 못한 \
             클라이언트는 굶은(starved) 것입니다. {timeout}초를 기다리다 포기했거나, 서버가 한 번도 \
             답하지 않고 연결을 끝낸 경우입니다. 표는 둘을 따로 셉니다."
        ),
    );
    // The crowds' servers go on running on their threads until the tour
    // ends, and server-v3's sessions may still be logging the crowd's
    // `exit`s: their lines stay out of the story from here on.
    tour.silence_servers();
    let v2 = crowd(start("server-v2", server_v2::serve)?.1)?.run(|_| {})?;
    let v3 = crowd(start("server-v3", serve_v3)?.1)?.run(|_| {})?;
    tour.panel("crowd", &side_by_side(&v2, &v3, tour));
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

/// The crowd's counts, server-v2 beside server-v3, in the tour's language.
fn side_by_side(v2: &Report, v3: &Report, tour: &Narrator) -> String {
    let row = |en, ko, value: &dyn Fn(&Report) -> String| (tour.pick(en, ko), value(v2), value(v3));
    let rows = [
        row("clients", "클라이언트", &|r| r.clients.to_string()),
        row("served", "처리됨", &|r| r.served.to_string()),
        row("starved: gave up waiting", "굶음: 기다리다 포기", &|r| {
            (r.starved - r.starved_then_closed).to_string()
        }),
        row(
            "starved: closed or reset",
            "굶음: 닫히거나 리셋됨",
            &|r| r.starved_then_closed.to_string(),
        ),
        row("replies", "응답", &|r| r.replies.to_string()),
        row("elapsed", "걸린 시간", &|r| format!("{:.3} s", r.elapsed_s)),
    ];
    let label_width = rows.iter().map(|(name, _, _)| name.width()).max().unwrap_or(0);
    let pad = |name: &str| format!("{name}{}", " ".repeat(label_width - name.width()));
    let mut table = format!("{}{:>12}{:>12}\n", pad(""), "server-v2", "server-v3");
    for (name, v2_value, v3_value) in rows {
        table += &format!("{}{v2_value:>12}{v3_value:>12}\n", pad(name));
    }
    table
}

/// What the crowd's counts say, in words made from the counts themselves.
fn what_the_crowd_shows(v2: &Report, v3: &Report) -> (String, String) {
    let (reset, waited) = (v2.starved_then_closed, v2.starved - v2.starved_then_closed);
    let mut en = format!(
        "server-v2 served {} of its {} clients. The other clients waited in its accept queue, never \
         answered: ",
        v2.served, v2.clients
    );
    let mut ko = format!(
        "server-v2는 클라이언트 {}개 중 {}개만 처리했습니다. 나머지는 백로그 큐에서 기다리기만 했고 \
         답을 받지 못했습니다. ",
        v2.clients, v2.served
    );
    let mut en_parts = Vec::new();
    let mut ko_parts = Vec::new();
    if reset > 0 {
        en_parts.push(format!(
            "{reset} until server-v2 exited after its one client's exit, and the kernel ended their \
             connections (reset, or closed)"
        ));
        ko_parts.push(format!(
            "{reset}개는 server-v2가 첫 클라이언트의 exit로 끝나면서 커널이 연결을 끝냈습니다(리셋 또는 \
             닫힘)"
        ));
    }
    if waited > 0 {
        en_parts.push(format!("{waited} until they gave up waiting"));
        ko_parts.push(format!("{waited}개는 기다리다 포기했습니다"));
    }
    en += &format!("{}.", en_parts.join("; "));
    ko += &format!("{}.", ko_parts.join(". "));
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
