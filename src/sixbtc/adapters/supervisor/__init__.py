"""supervisord: its configuration format and its event-listener protocol."""
