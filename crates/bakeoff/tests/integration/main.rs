mod browser;
mod report;
mod store;
mod verdict;
