# No provider: the fragment is pure expressions, so it renders (and is tested) without AWS.
terraform {
  required_version = ">= 1.6.0"
}
