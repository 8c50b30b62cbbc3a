pub mod narrator;
