//! The offline lab (in progress)
