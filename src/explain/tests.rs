use super::*;

#[test]
fn every_text_file_parses() {
    let errors: Vec<&String> = texts().keys().filter(|k| k.ends_with("__error")).collect();
    assert!(errors.is_empty(), "broken text files: {errors:?}");
}

#[test]
fn templates_fill_their_holes() {
    let t = text(
        "layers.field.ttl",
        &[("ttl", "64"), ("more", "63"), ("start", "64")],
    );
    assert!(t.starts_with("TTL 64:"), "{t}");
    assert!(!t.contains('{'));
}

#[test]
fn every_tag_has_words() {
    for t in crate::analysis::Tag::ALL {
        let words = tag(t);
        assert_ne!(
            words,
            format!("tags.{}", t.name()),
            "no text for tag {}",
            t.name()
        );
    }
}

#[test]
fn topics_from_the_course_exist() {
    for name in [
        "osi",
        "syn",
        "ack",
        "upgrade",
        "mask",
        "socketio",
        "tcp-vs-udp",
        "proof-of-life",
        "emit",
        "io-on",
    ] {
        assert!(topic(name).is_some(), "missing topic {name}");
    }
    assert!(topic("upgrade")
        .unwrap()
        .contains("258EAFA5-E914-47DA-95CA-C5AB0DC85B11"));
}
