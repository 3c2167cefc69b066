//! edgeward for JavaScript.
