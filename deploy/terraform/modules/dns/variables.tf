variable "name" {
  type = string
}

variable "host" {
  description = "The ingress host the certificate is for."
  type        = string
}

variable "zone_name" {
  description = "Zone to create when zone_id is blank."
  type        = string
  default     = ""
}

variable "zone_id" {
  description = "Existing hosted zone; blank: create zone_name."
  type        = string
  default     = ""
}
