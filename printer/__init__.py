"""Receipts on paper: pure layouts, ESC/POS output, transports and the print worker.

Importing this package has no side effects: python-escpos (which writes a
temporary file and configures logging when imported) is loaded only when the
first receipt is encoded, see ``printer.escpos_out``.
"""
