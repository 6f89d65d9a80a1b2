"""One module per command; ``aislecast.cli`` joins them."""
