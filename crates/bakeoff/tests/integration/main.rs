mod browser;
mod report;
mod store;
mod verdict;
mod verify_checks;
