//! hxb-ai
