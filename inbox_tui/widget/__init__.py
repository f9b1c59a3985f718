"""The embeddable chat widget: plain JavaScript and CSS shipped in the package
(``static/``), served by the chat server at ``/widget.js``, speaking ``/chat``."""
