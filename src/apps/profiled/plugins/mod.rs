//! Code for what a profile's data cannot say, named by the profile's `[plugins]`: a
//! realtime protocol, a framework's session cookie. Each plug-in owns the protocol facts
//! it relies on (Meteor's messages, not an application's), so a wrong application fact in
//! a profile still ends in an error rather than agreeing with itself. (The password
//! proof is data the profile's client applies: `profile::proof`.)

pub mod cable;
pub mod comms;
pub mod ddp;
pub mod rails;
