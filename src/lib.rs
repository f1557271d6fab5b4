//! icb-impact: a Monte Carlo simulator of what GP collective action costs England's
//! Integrated Care Boards.
//!
//! Data flow: scenario TOML + ICB table → validated [`scenario::Scenario`] and
//! [`data::IcbTable`] → [`model::Model`] → [`engine::run`] → [`engine::Draws`] →
//! [`summary::RunSummary`] → tables, JSON and charts ([`output`], [`chart`]).

#![forbid(unsafe_code)]

pub mod activities;
pub mod activity;
pub mod benchmark;
pub mod calibrate;
pub mod cancel;
pub mod chart;
pub mod cli;
pub mod compare;
pub mod correlation;
pub mod data;
pub mod decide;
pub mod dist;
pub mod engine;
pub mod error;
pub mod footprint;
pub mod icb_map;
pub mod model;
pub mod money;
pub mod month;
pub mod names;
pub mod observed;
pub mod output;
pub mod pipeline;
pub mod posterior;
pub mod practices;
pub mod prescribing;
pub mod price;
pub mod provenance;
pub mod report;
pub mod rng;
pub mod scenario;
pub mod sensitivity;
pub mod serve;
pub mod settlement;
pub mod stats;
pub mod summary;
pub mod tally;
