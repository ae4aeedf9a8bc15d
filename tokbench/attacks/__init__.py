"""Attacks on tokenizers' training data, and defences: what a merge list reveals (mixture
inference, Hayase et al. 2024) and encoding without one (Sawada & Goyal 2025)."""
