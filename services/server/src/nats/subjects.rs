//! Subjects: how events and projection rows are named on NATS (`p30.events.{type}.{token}`,
//! `p30.projections.{name}.{token}`), the token being a value with every byte outside `A–Z a–z 0–9 -`
//! written as `_` and two hex digits.

use events::Event;

/// Writes a value as one subject token: every byte outside `A–Z a–z 0–9 -` becomes `_` and two
/// upper-case hex digits (`1.004227` → `1_2E004227`). Reversible with [`decode_token`].
pub fn encode_token(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 8);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("_{b:02X}"));
        }
    }
    out
}

/// Reads a token written by [`encode_token`].
pub fn decode_token(token: &str) -> Option<String> {
    let bytes = token.as_bytes();
    let (mut out, mut i) = (Vec::with_capacity(bytes.len()), 0);
    while i < bytes.len() {
        if bytes[i] == b'_' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The subject of an event: `p30.events.{type}.{token}`, the token naming its procedure (a merge's
/// `into`) or `settings`.
pub fn subject(event: &Event) -> String {
    let key = event.change.subject_code().map_or("settings", |c| c.as_str());
    format!("p30.events.{}.{}", event.type_name(), encode_token(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_become_one_reversible_token() {
        assert_eq!(encode_token("1.004227"), "1_2E004227");
        assert_eq!(encode_token("1.012753.H19"), "1_2E012753_2EH19");
        assert_eq!(encode_token("a_b"), "a_5Fb");
        for code in ["1.004227", "1.012753.H19", "a_b-c.d", "Hộ tịch", "settings", "_2E"] {
            assert_eq!(decode_token(&encode_token(code)).as_deref(), Some(code));
            assert!(encode_token(code).bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }
}
