//! Step 2: server-v1, one client, one message, one reply, and the server is
//! done.

use anyhow::Result;

use super::narrator::Narrator;
use super::{start, Client};

pub fn run(tour: &Narrator) -> Result<()> {
    tour.heading(
        "Step 2: server-v1, one exchange",
        "2단계: server-v1, 한 번 주고받기",
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
         호출했습니다 (server-v1/src/lib.rs의 serve 함수). 두 번째 클라이언트는 접속할 곳이 \
         없습니다.",
    );
    tour.try_it(&[
        ("cargo run -p server-v1", "", ""),
        (
            "cargo run -p client --bin client-v1",
            "in a second terminal",
            "두 번째 터미널에서",
        ),
    ]);
    Ok(())
}
