"""What customers do to targets: comment, like, dislike, favourite, view, follow."""
