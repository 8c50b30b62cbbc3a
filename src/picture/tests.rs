//! The picture's rules, each on a table written as Linux prints it.

use unicode_width::UnicodeWidthStr;

use super::*;
use crate::kernel::{proc_net, Table};

fn lesson_view(text: &str) -> PortView {
    PortView::of(
        &Table::new(proc_net::parse_table(text).unwrap()),
        12345,
        &proc_net::SOURCE,
    )
}

const HEADER: &str =
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

/// Both of the lesson's clients in the queue, 60000 with 7 bytes.
fn both_queued() -> String {
    [
        HEADER,
        "   0: 0100007F:3039 00000000:0000 0A 00000000:00000002 00:00000000 00000000 0 0 11 1\n",
        "   1: 0100007F:3039 0100007F:C350 01 00000000:00000000 00:00000000 00000000 0 0 0 1\n",
        "   2: 0100007F:3039 0100007F:EA60 01 00000000:00000007 00:00000000 00000000 0 0 0 1\n",
        "   3: 0100007F:C350 0100007F:3039 01 00000000:00000000 00:00000000 00000000 0 0 21 1\n",
        "   4: 0100007F:EA60 0100007F:3039 01 00000000:00000000 00:00000000 00000000 0 0 22 1\n",
    ]
    .concat()
}

/// The lesson's two clients known to have come 60000 first.
fn sixty_thousand_first() -> Known {
    Known {
        queue_order: vec![
            "127.0.0.1:60000".parse().unwrap(),
            "127.0.0.1:50000".parse().unwrap(),
        ],
        accepted: vec![],
    }
}

fn assert_fits(text: &str) {
    for line in text.lines() {
        assert!(line.width() <= WIDTH, "too wide ({}): {line}", line.width());
    }
}

#[test]
fn an_order_is_drawn_only_when_known() {
    let view = lesson_view(&both_queued());
    let unknown = Picture::new(&view, &Known::default(), Style::PLAIN, Lang::En).draw();
    assert!(
        unknown.contains("in which order they came: the kernel does not report it"),
        "{unknown}"
    );
    let known = sixty_thousand_first();
    let drawn = Picture::new(&view, &known, Style::PLAIN, Lang::En).draw();
    assert!(
        drawn.contains("oldest first: accept() takes the one on the left"),
        "{drawn}"
    );
    let slots = drawn.lines().find(|line| line.contains(":60000")).unwrap();
    assert!(
        slots.find(":60000") < slots.find(":50000"),
        "60000 first, as known:\n{drawn}"
    );
    assert!(drawn.contains("sockets from accept(): none"), "{drawn}");
    assert!(drawn.contains("7 B unread"), "{drawn}");
    assert_fits(&drawn);
}

#[test]
fn an_accepted_connection_is_a_numbered_socket() {
    let view = lesson_view(crate::kernel::proc_net::tests::TCP);
    let known = Known {
        queue_order: vec![],
        accepted: vec![(1, "127.0.0.1:50000".parse().unwrap())],
    };
    let drawn = Picture::new(&view, &known, Style::PLAIN, Lang::En).draw();
    assert!(drawn.contains("socket 1 -- :50000   nothing unread"), "{drawn}");
    assert!(drawn.contains("backlog queue: 1 waiting"), "{drawn}");
    assert!(drawn.contains("| :60000        || "), "{drawn}");
    assert_eq!(drawn.matches("socket: exists").count(), 2, "{drawn}");
    assert_fits(&drawn);
}

#[test]
fn unicode_korean_and_colour_keep_the_boxes_aligned() {
    let view = lesson_view(&both_queued());
    for lang in [Lang::En, Lang::Ko] {
        let style = Style {
            colour: false,
            unicode: true,
        };
        let drawn = Picture::new(&view, &Known::default(), style, lang).draw();
        assert_fits(&drawn);
        // Every line of the server box ends at the same column.
        let edges: Vec<usize> = drawn
            .lines()
            .take_while(|line| !line.starts_with('└'))
            .map(|line| line.width())
            .collect();
        assert!(edges.iter().all(|&width| width == WIDTH), "{edges:?}\n{drawn}");
    }
    let coloured = Picture::new(
        &view,
        &Known::default(),
        Style {
            colour: true,
            unicode: true,
        },
        Lang::En,
    )
    .draw();
    assert!(coloured.contains('\x1b'));
}

#[test]
fn where_the_system_does_not_say_the_server_program_places_its_connections() {
    let mut view = lesson_view(crate::kernel::proc_net::tests::TCP);
    view.system = "Windows";
    for connection in &mut view.listeners[0].connections {
        connection.stage = Stage::QueuedOrAccepted;
    }
    let unknown = Picture::new(&view, &Known::default(), Style::PLAIN, Lang::En).draw();
    assert!(
        unknown.contains("open connections, queued or accepted (Windows does not say which):"),
        "{unknown}"
    );
    let known = Known {
        queue_order: vec!["127.0.0.1:60000".parse().unwrap()],
        accepted: vec![(1, "127.0.0.1:50000".parse().unwrap())],
    };
    let placed = Picture::new(&view, &known, Style::PLAIN, Lang::En).draw();
    assert!(placed.contains("socket 1 -- :50000"), "{placed}");
    assert!(placed.contains("| :60000  "), "{placed}");
    assert!(placed.contains("known to this program, which is the"), "{placed}");
}

#[test]
fn every_picture_fits_the_width_it_is_given() {
    let mut crowd = String::from(HEADER);
    crowd += "   0: 0100007F:3039 00000000:0000 0A 00000000:00000014 00:00000000 00000000 0 0 11 1\n";
    for client in 0..20u32 {
        let port = 40000 + client;
        crowd += &format!(
            "   1: 0100007F:3039 0100007F:{port:04X} 01 00000000:00000007 00:00000000 00000000 0 0 0 1\n   \
             2: 0100007F:{port:04X} 0100007F:3039 01 00000000:00000000 00:00000000 00000000 0 0 {} 1\n",
            100 + client
        );
    }
    let known = Known {
        queue_order: vec![],
        accepted: vec![(1, "127.0.0.1:50000".parse().unwrap())],
    };
    for text in [
        both_queued(),
        crowd,
        HEADER.to_string(),
        crate::kernel::proc_net::tests::TCP.to_string(),
    ] {
        let view = lesson_view(&text);
        for columns in 10..=100 {
            for (lang, unicode) in [(Lang::En, false), (Lang::Ko, true), (Lang::En, true)] {
                let style = Style {
                    colour: false,
                    unicode,
                };
                let drawn = Picture::new(&view, &known, style, lang).fit(columns).draw();
                for line in drawn.lines() {
                    assert!(
                        line.width() <= columns.min(WIDTH),
                        "{columns} columns, {lang:?}: {line:?}\n{drawn}"
                    );
                }
                assert!(drawn.contains(":60000") || !text.contains(":EA60"), "{drawn}");
            }
        }
    }
}

#[test]
fn the_clients_are_drawn_in_the_order_they_came() {
    let view = lesson_view(&both_queued());
    let known = sixty_thousand_first();
    let drawn = Picture::new(&view, &known, Style::PLAIN, Lang::En).draw();
    let boxes = drawn.lines().find(|line| line.contains("+- client")).unwrap();
    assert!(boxes.find(":60000") < boxes.find(":50000"), "{drawn}");
}

#[test]
fn nothing_listening_is_said() {
    let view = lesson_view(HEADER);
    let drawn = Picture::new(&view, &Known::default(), Style::PLAIN, Lang::En).draw();
    assert!(drawn.contains("nothing is listening"), "{drawn}");
}

#[test]
fn a_crowd_is_counted_not_drawn_one_by_one() {
    let mut text = String::from(HEADER);
    text += "   0: 0100007F:3039 00000000:0000 0A 00000000:00000014 00:00000000 00000000 0 0 11 1\n";
    for client in 0..20u32 {
        let port = 40000 + client;
        text += &format!(
            "   1: 0100007F:3039 0100007F:{port:04X} 01 00000000:00000007 00:00000000 00000000 0 0 0 1\n"
        );
        text += &format!(
            "   2: 0100007F:{port:04X} 0100007F:3039 01 00000000:00000000 00:00000000 00000000 0 0 {} 1\n",
            100 + client
        );
    }
    let view = lesson_view(&text);
    let drawn = Picture::new(&view, &Known::default(), Style::PLAIN, Lang::En).draw();
    assert!(drawn.contains("+17 more"), "{drawn}");
    assert!(drawn.contains("+14"), "{drawn}");
    assert_fits(&drawn);
}
