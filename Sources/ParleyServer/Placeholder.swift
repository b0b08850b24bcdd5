enum _PlaceholderParleyServer {}
