//! Read models folded from events: before/after cost and time per procedure and group (to be built in
//! issue 3; this crate is pure, like `events`).
