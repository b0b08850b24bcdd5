enum _PlaceholderParleyMock {}
