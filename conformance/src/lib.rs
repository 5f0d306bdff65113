//! The conformance kit of Gateway Interface 1.0: black-box tests that judge any
//! server hosting the fixture app. (Being built; see SPEC.md.)
