# tests/integration/t_handles.sh — open descriptors and unlocked sessions
# that must follow changes made after they were opened: a level raised under
# an open file, key refresh of every unlocked user (issue 10, items 2 and 3).
