//! sessiondrill: proves, with a real headless browser, that a Rocket.Chat or
//! Chatwoot deployment manages sessions safely.

pub mod apps;
pub mod browser;
pub mod checks;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod duration;
pub mod facts;
pub mod jar;
#[cfg(test)]
mod layers;
pub mod loopback;
pub mod model;
pub mod probe;
pub mod profile;
pub mod refapp;
pub mod report;
pub mod runner;
pub mod secret;
pub mod steps;
