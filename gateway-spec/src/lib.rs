//! Gateway Interface 1.0: the contract between synchronous web apps and servers.
