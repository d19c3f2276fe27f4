from school_common.settings import GrpcSettings, ServiceSettings


class Settings(ServiceSettings):
    service_name: str = "attendance"
    grpc: GrpcSettings = GrpcSettings(port=50063)
