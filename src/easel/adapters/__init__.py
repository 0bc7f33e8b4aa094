"""How it is spoken: one module per wire format, with pure to_wire()/from_wire() functions."""
