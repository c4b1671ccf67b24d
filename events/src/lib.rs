//! The p30 domain: procedures, the event catalogue, commands and the decider — pure, with no I/O and no
//! clock (time comes in as a value).

pub mod codec;
pub mod decide;
pub mod event;
pub mod procedure;
pub mod value;

pub use decide::{Command, FieldError, History, Refusal, RuleBroken, Status, decide};
pub use event::{Change, Event, NewEvent, SCHEMA_VERSION, StreamId};
pub use procedure::{Changes, Document, Estimates, Procedure};
