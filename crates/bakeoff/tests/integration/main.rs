mod store;
mod verdict;
