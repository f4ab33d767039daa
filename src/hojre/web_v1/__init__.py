"""The v1 wire contract as an adapter: params, envelopes, paging, legacy names and messages.

Domain code never sees this layer's quirks (``Model[field]`` params, HTTP-200 errors,
``bazzar``/``telegramChannell`` spellings); it converts them at the edge.
"""
