"""Exchange adapters: ccxt market data and trading venues, translated to sixbtc errors."""
