print("esrun 0.1.0")
