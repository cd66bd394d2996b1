// The tests signal their children (SIGINT, SIGSTOP, SIGKILL) through libc.
#![allow(unsafe_code)]
mod anywhere;
mod browser;
mod contender;
mod custom;
mod distributed;
mod faults_files;
mod faults_load;
mod faults_run;
mod faults_signals;
mod faults_supervisor;
mod hardening;
mod hardening_cli;
mod hardening_security;
mod load;
mod netns;
mod postgres;
mod report;
mod run;
mod runtimes;
mod setup;
mod store;
mod supervisor;
mod variants;
mod verdict;
mod verify;
mod verify_checks;
