//! The lesson's tour: `cargo run` tells the story of server-v1, server-v2 and
//! server-v3 with real sockets on free ports, and says after each step which
//! code did what and how to try it by hand.
//!
//! The servers run on threads of this process, through the same `serve`
//! functions their binaries call, so `cargo run` needs to build nothing else.

mod tour;

use std::io::BufReader;
use std::net::{TcpListener, TcpStream};
use std::process::ExitCode;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use client::protocol::{read_utf, write_utf, ProtocolError};
use socket_lesson::crowd::{Crowd, Report};
use socket_lesson::kernel::{self, PortView};
use tour::narrator::{Lang, Narrator};

/// A narrated tour of the lesson: server-v1, server-v2 (one client at a time)
/// and server-v3 (a thread per client), with real sockets.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Run one step only.
    #[arg(long, value_enum)]
    step: Option<Step>,
    /// The narration's language.
    #[arg(long, value_enum, default_value = "en")]
    lang: Lang,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Step {
    /// server-v1: one exchange.
    V1,
    /// server-v2: the second client starves.
    V2,
    /// server-v3: everyone is served; a crowd against V2 and V3.
    V3,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let tour = Narrator::new(args.lang);
    let steps = match args.step {
        Some(step) => vec![step],
        None => vec![Step::V1, Step::V2, Step::V3],
    };
    for step in steps {
        let result = match step {
            Step::V1 => v1(&tour),
            Step::V2 => v2(&tour),
            Step::V3 => v3(&tour),
        };
        if let Err(error) = result {
            eprintln!("socket-lesson: error: the tour failed at step {step:?}: {error:#}");
            return ExitCode::FAILURE;
        }
    }
    tour.say(
        "That is the lesson. The book (docs/README.md) goes through each version beside its code.",
        "이것으로 수업을 마칩니다. 교재(docs/README.md)에서 각 버전을 코드와 함께 살펴볼 수 있습니다.",
    );
    ExitCode::SUCCESS
}

/// Step 1: one client, one message, one reply, and the server is done.
fn v1(tour: &Narrator) -> Result<()> {
    tour.heading(
        "Step 1: server-v1, one exchange",
        "1단계: server-v1, 한 번 주고받기",
    );
    tour.say(
        "server-v1 binds a port, accepts one client, answers its one message, and exits. The \
         servers run inside this tour, each on a thread named after it: their log shows \
         [server-v1] where the program run on its own shows [     main].",
        "server-v1은 포트를 열고, 클라이언트 하나를 accept하고, 메시지 하나에 답한 뒤 종료합니다. \
         이 투어에서는 서버마다 자기 이름을 붙인 스레드에서 실행되므로, 따로 실행하면 \
         [     main]으로 나오는 로그가 여기서는 [server-v1]로 나옵니다.",
    );
    let (server, port) = start("server-v1", server_v1::serve)?;
    tour.expect_log("listening on")?;

    let mut a = Client::connect("A", port, tour)?;
    tour.expect_log("connected: client")?;
    a.exchange("Hello", tour)?;
    let result = server.join().expect("server-v1's thread");
    tour.expect_log("closing")?;
    result?;

    tour.say(
        "serve() returned after one reply: accept(), read_utf(), write_utf(), in that order, once \
         (server-v1/src/lib.rs, fn serve). A second client would find no one listening.",
        "serve()는 답장 한 번으로 끝났습니다. accept(), read_utf(), write_utf()를 차례로 한 번씩 \
         (server-v1/src/lib.rs의 serve 함수). 두 번째 클라이언트는 접속할 곳이 없습니다.",
    );
    tour.try_it(&[
        "cargo run -p server-v1",
        "cargo run -p client --bin client-v1   # in a second terminal",
    ]);
    Ok(())
}

/// Step 2: the lesson's problem. B connects and sends, and waits for ever.
fn v2(tour: &Narrator) -> Result<()> {
    tour.heading(
        "Step 2: server-v2, one client at a time",
        "2단계: server-v2, 한 번에 한 클라이언트",
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
         handshake by itself and put the connection in the listening socket's accept queue. \
         server-v2 never calls accept() again, so no socket for B exists in the server.",
        "이제 클라이언트 B가 접속합니다. connect()는 바로 돌아옵니다. 커널이 스스로 3-way \
         handshake를 끝내고 연결을 서버 소켓의 backlog 큐(accept 큐)에 넣었기 때문입니다. \
         server-v2는 다시 accept()를 부르지 않으므로, 서버에는 B를 위한 소켓 객체가 없습니다.",
    );
    let mut b = Client::connect("B", port, tour)?;
    let sent = b.send("Hello from B", tour)?;

    // Wait until the kernel shows B's bytes, then show its view, as `peek` would.
    let b_port = b.port()?;
    let view = kernel::wait_for(Duration::from_secs(10), |table| {
        let view = PortView::of(table, port, kernel::SOURCE);
        let b_row = view.connection(b_port)?;
        // Where the system reports unread bytes, wait until B's are in.
        b_row
            .server_unread
            .map_or(true, |unread| unread as usize == sent)
            .then_some(view)
    })?
    .context("the kernel's table never showed B's bytes waiting")?;
    tour.panel("peek", &view.to_string());
    tour.say(
        &format!(
            "peek reads the kernel's table: B is connected but not accepted (ACCEPTED no), and its \
             {sent} bytes, the 2-byte length and the message, wait unread in the server's receive \
             buffer. The accept queue holds 1."
        ),
        &format!(
            "peek은 커널의 소켓 표를 읽습니다. B는 연결되었지만 accept되지 않았고(ACCEPTED no), \
             B가 보낸 {sent}바이트(길이 2바이트와 메시지)는 서버의 TCP 수신 버퍼에서 읽히기를 \
             기다립니다. accept 큐에는 연결 하나가 있습니다."
        ),
    );

    a.exchange("A again", tour)?;
    b.expect_silence(Duration::from_secs(1), tour)?;
    tour.say(
        "A is answered; B is not. server-v2's only thread is inside session(), blocked in A's \
         read_utf() (server-v2/src/lib.rs, fn session), and never comes back to accept().",
        "A는 답을 받고 B는 받지 못합니다. server-v2의 유일한 스레드는 session() 안에서 A의 \
         read_utf()에 막혀 있고 (server-v2/src/lib.rs의 session 함수), accept()로 돌아가지 않습니다.",
    );

    a.send("exit", tour)?;
    let result = server.join().expect("server-v2's thread");
    tour.expect_log("closing")?;
    result?;
    b.expect_closed(tour)?;
    tour.say(
        "A said exit, so serve() returned and closed the listening socket. The kernel reset B's \
         connection, still queued: B was never served.",
        "A가 exit를 보내자 serve()가 끝나며 서버 소켓을 닫았습니다. 커널은 큐에 남아 있던 B의 \
         연결을 끊었습니다(reset). B는 끝내 응답을 받지 못했습니다.",
    );
    tour.try_it(&[
        "cargo run -p server-v2",
        "cargo run -p client --bin client-v2 -- --local-port 50000   # terminal 2",
        "cargo run -p client --bin client-v2 -- --local-port 60000   # terminal 3",
        "cargo run --bin peek -- --watch                   # terminal 4",
    ]);
    Ok(())
}

/// Step 3: a thread per client; then a crowd against server-v2 and server-v3.
fn v3(tour: &Narrator) -> Result<()> {
    tour.heading(
        "Step 3: server-v3, a thread per client",
        "3단계: server-v3, 클라이언트마다 스레드 하나",
    );
    tour.say(
        "server-v3's main thread only accepts. Each client gets its own session thread running \
         server-v2's loop, so each blocking read holds up only its own client.",
        "server-v3의 main 스레드는 accept만 합니다. 클라이언트마다 server-v2의 반복문을 실행하는 \
         세션 스레드가 따로 생기므로, 블로킹 읽기는 자기 클라이언트만 기다리게 합니다.",
    );
    // server-v3 never returns: its thread ends with the tour.
    let (_server, port) = start("server-v3", server_v3::serve)?;
    tour.expect_log("listening on")?;

    let mut a = Client::connect("A", port, tour)?;
    tour.expect_log("connected: client")?;
    let mut b = Client::connect("B", port, tour)?;
    tour.expect_log("connected: client")?;
    a.exchange("Hello from A", tour)?;
    b.exchange("Hello from B", tour)?;
    a.send("exit", tour)?;
    tour.expect_log("[session-1] session ended")?;
    b.exchange("B again", tour)?;
    tour.say(
        "Both are answered, each by its own thread: the log names them session-1 and session-2 \
         (server-v3/src/lib.rs, fn serve). A's exit ended session-1 alone.",
        "둘 다 답을 받습니다. 각자 자기 스레드가 처리하며, 로그에 session-1과 session-2로 \
         나옵니다 (server-v3/src/lib.rs의 serve 함수). A의 exit는 session-1만 끝냈습니다.",
    );
    b.send("exit", tour)?;
    tour.expect_log("[session-2] session ended")?;

    tour.say(
        "Last, a crowd: 20 clients connect at once and send 5 messages each, against a fresh \
         server-v2 and a fresh server-v3. A client that hears nothing for 1 s gives up, starved.",
        "마지막으로 클라이언트 20개가 동시에 접속해 각각 메시지 5개를 보냅니다. 새로 띄운 \
         server-v2와 server-v3에 각각. 1초 동안 답이 없으면 그 클라이언트는 포기합니다(starved).",
    );
    tour.quiet_servers(true);
    let v2_report = crowd(start("server-v2", server_v2::serve)?.1)?;
    let v3_report = crowd(start("server-v3", server_v3::serve)?.1)?;
    tour.quiet_servers(false);
    tour.panel("crowd", &side_by_side(&v2_report, &v3_report));
    tour.say(
        "server-v2 served one client; the rest waited in its accept queue until it closed. \
         server-v3 served all twenty.",
        "server-v2는 클라이언트 하나만 처리했고, 나머지는 서버가 닫힐 때까지 accept 큐에서 \
         기다렸습니다. server-v3는 스무 개 모두 처리했습니다.",
    );
    tour.try_it(&[
        "cargo run -p server-v3",
        "cargo run --bin crowd -- --clients 20 --messages 5   # terminal 2",
        "docs/side-by-side.sh --v3                                      # all in one tmux window",
    ]);
    Ok(())
}

/// Binds a free port on 127.0.0.1 and runs a server's `serve` on a thread
/// named after it.
fn start(name: &str, serve: fn(TcpListener) -> Result<()>) -> Result<(JoinHandle<Result<()>>, u16)> {
    let listener = client::net::listen("127.0.0.1", 0, None)?;
    let port = listener.local_addr()?.port();
    let server = thread::Builder::new()
        .name(name.to_string())
        .spawn(move || serve(listener))?;
    Ok((server, port))
}

fn crowd(port: u16) -> Result<Report> {
    let mut crowd = Crowd::new("127.0.0.1", port, 20, 5)?;
    crowd.timeout = Duration::from_secs(1);
    crowd.run(|_| {})
}

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

/// One of the tour's clients, speaking the protocol.
struct Client {
    name: &'static str,
    socket: TcpStream,
    input: BufReader<TcpStream>,
}

impl Client {
    fn connect(name: &'static str, port: u16, tour: &Narrator) -> Result<Client> {
        let socket = client::net::connect("127.0.0.1", port, None)?;
        socket.set_read_timeout(Some(Duration::from_secs(10)))?;
        tour.client(
            name,
            &format!(
                "connect() returned: {} -> {}",
                socket.local_addr()?,
                socket.peer_addr()?
            ),
        );
        let input = BufReader::new(socket.try_clone()?);
        Ok(Client { name, socket, input })
    }

    fn port(&self) -> Result<u16> {
        Ok(self.socket.local_addr()?.port())
    }

    /// Sends `message`; returns the frame's size in bytes.
    fn send(&mut self, message: &str, tour: &Narrator) -> Result<usize> {
        // Said before it is done, so that the server's log of it comes after.
        tour.client(self.name, &format!("sends: {message}"));
        write_utf(&mut self.socket, message)?;
        Ok(2 + client::protocol::encode(message).len())
    }

    fn exchange(&mut self, message: &str, tour: &Narrator) -> Result<()> {
        self.send(message, tour)?;
        tour.expect_log(&format!("sent: {message} World!"))?;
        let reply = read_utf(&mut self.input)?.context("the server closed instead of replying")?;
        tour.client(self.name, &format!("received: {reply}"));
        Ok(())
    }

    fn expect_silence(&mut self, wait: Duration, tour: &Narrator) -> Result<()> {
        self.socket.set_read_timeout(Some(wait))?;
        match read_utf(&mut self.input) {
            Err(ProtocolError::Io(error))
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                tour.client(self.name, &format!("no reply after {} s", wait.as_secs()));
                Ok(())
            }
            other => bail!("client {} expected silence, got {other:?}", self.name),
        }
    }

    fn expect_closed(&mut self, tour: &Narrator) -> Result<()> {
        let how = match read_utf(&mut self.input) {
            Ok(None) => "the server closed the connection".to_string(),
            Err(ProtocolError::Io(error)) if error.kind() == std::io::ErrorKind::ConnectionReset => {
                format!("the connection was reset: {error}")
            }
            other => bail!(
                "client {} expected its connection closed, got {other:?}",
                self.name
            ),
        };
        tour.client(self.name, &how);
        Ok(())
    }
}
