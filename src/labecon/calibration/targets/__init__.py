"""Target sets shipped with labecon: public figures of real labs, for calibration and backtests."""
