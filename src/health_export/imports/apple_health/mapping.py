"""Where each HealthKit type of export.xml goes: the metric names the HAE feed uses.

The names are those the app sends (``docs/hae-format.md``) and the catalogue knows, so
a sample imported from the archive and the same sample sent by the app share one row.
Identifiers not listed are stored under a snake_case fallback, so nothing is lost.
"""

from __future__ import annotations

import re

QUANTITY_PREFIX = "HKQuantityTypeIdentifier"
CATEGORY_PREFIX = "HKCategoryTypeIdentifier"

# HKQuantityTypeIdentifier<suffix> -> metric name.
QUANTITY_METRICS: dict[str, str] = {
    # Activity
    "StepCount": "step_count",
    "DistanceWalkingRunning": "walking_running_distance",
    "DistanceCycling": "cycling_distance",
    "DistanceSwimming": "swimming_distance",
    "DistanceWheelchair": "wheelchair_distance",
    "DistanceDownhillSnowSports": "distance_downhill_snow_sports",
    "ActiveEnergyBurned": "active_energy",
    "BasalEnergyBurned": "basal_energy_burned",
    "FlightsClimbed": "flights_climbed",
    "AppleExerciseTime": "apple_exercise_time",
    "AppleStandTime": "apple_stand_time",
    "AppleMoveTime": "apple_move_time",
    "PushCount": "push_count",
    "SwimmingStrokeCount": "swimming_stroke_count",
    "VO2Max": "vo2_max",
    "PhysicalEffort": "physical_effort",
    "TimeInDaylight": "time_in_daylight",
    "CyclingCadence": "cycling_cadence",
    "CyclingPower": "cycling_power",
    "CyclingFunctionalThresholdPower": "cycling_functional_threshold_power",
    "CyclingSpeed": "cycling_speed",
    "RunningSpeed": "running_speed",
    "RunningPower": "running_power",
    "RunningGroundContactTime": "running_ground_contact_time",
    "RunningStrideLength": "running_stride_length",
    "RunningVerticalOscillation": "running_vertical_oscillation",
    # Body
    "BodyMass": "weight_body_mass",
    "BodyMassIndex": "body_mass_index",
    "BodyFatPercentage": "body_fat_percentage",
    "LeanBodyMass": "lean_body_mass",
    "Height": "height",
    "WaistCircumference": "waist_circumference",
    "AppleSleepingWristTemperature": "apple_sleeping_wrist_temperature",
    "BodyTemperature": "body_temperature",
    "BasalBodyTemperature": "basal_body_temperature",
    "ElectrodermalActivity": "electrodermal_activity",
    # Heart
    "HeartRate": "heart_rate",
    "RestingHeartRate": "resting_heart_rate",
    "WalkingHeartRateAverage": "walking_heart_rate_average",
    "HeartRateVariabilitySDNN": "heart_rate_variability",
    "HeartRateRecoveryOneMinute": "cardio_recovery",
    "AtrialFibrillationBurden": "atrial_fibrillation_burden",
    "PeripheralPerfusionIndex": "peripheral_perfusion_index",
    # Respiratory
    "OxygenSaturation": "blood_oxygen_saturation",
    "RespiratoryRate": "respiratory_rate",
    "AppleSleepingBreathingDisturbances": "breathing_disturbances",
    "ForcedExpiratoryVolume1": "forced_expiratory_volume_1",
    "ForcedVitalCapacity": "forced_vital_capacity",
    "PeakExpiratoryFlowRate": "peak_expiratory_flow_rate",
    "InhalerUsage": "inhaler_usage",
    # Mobility
    "WalkingSpeed": "walking_speed",
    "WalkingStepLength": "walking_step_length",
    "WalkingAsymmetryPercentage": "walking_asymmetry_percentage",
    "WalkingDoubleSupportPercentage": "walking_double_support_percentage",
    "StairAscentSpeed": "stair_speed_up",
    "StairDescentSpeed": "stair_speed_down",
    "SixMinuteWalkTestDistance": "six_minute_walking_test_distance",
    "NumberOfTimesFallen": "number_of_times_fallen",
    # Hearing and environment
    "EnvironmentalAudioExposure": "environmental_audio_exposure",
    "HeadphoneAudioExposure": "headphone_audio_exposure",
    "UVExposure": "uv_exposure",
    "UnderwaterDepth": "underwater_depth",
    "WaterTemperature": "water_temperature",
    # Vitals and other
    "BloodGlucose": "blood_glucose",
    "InsulinDelivery": "insulin_delivery",
    "BloodAlcoholContent": "blood_alcohol_content",
    "NumberOfAlcoholicBeverages": "number_of_alcoholic_beverages",
    # Nutrition (per entry)
    "DietaryEnergyConsumed": "dietary_energy",
    "DietaryWater": "dietary_water",
    "DietaryCaffeine": "dietary_caffeine",
    "DietarySugar": "dietary_sugar",
    "DietaryCarbohydrates": "carbohydrates",
    "DietaryProtein": "protein",
    "DietaryFatTotal": "total_fat",
    "DietaryFatSaturated": "saturated_fat",
    "DietaryFatMonounsaturated": "monounsaturated_fat",
    "DietaryFatPolyunsaturated": "polyunsaturated_fat",
    "DietaryFiber": "fiber",
    "DietaryCholesterol": "cholesterol",
    "DietarySodium": "sodium",
    "DietaryPotassium": "potassium",
    "DietaryCalcium": "calcium",
    "DietaryIron": "iron",
    "DietaryMagnesium": "magnesium",
    "DietaryPhosphorus": "phosphorus",
    "DietaryZinc": "zinc",
    "DietaryCopper": "copper",
    "DietaryManganese": "manganese",
    "DietaryChloride": "chloride",
    "DietarySelenium": "selenium",
    "DietaryIodine": "iodine",
    "DietaryChromium": "chromium",
    "DietaryMolybdenum": "molybdenum",
    "DietaryVitaminA": "vitamin_a",
    "DietaryVitaminB6": "vitamin_b6",
    "DietaryVitaminB12": "vitamin_b12",
    "DietaryVitaminC": "vitamin_c",
    "DietaryVitaminD": "vitamin_d",
    "DietaryVitaminE": "vitamin_e",
    "DietaryVitaminK": "vitamin_k",
    "DietaryThiamin": "thiamin",
    "DietaryRiboflavin": "riboflavin",
    "DietaryNiacin": "niacin",
    "DietaryFolate": "folate",
    "DietaryBiotin": "biotin",
    "DietaryPantothenicAcid": "pantothenic_acid",
}

# The two halves of a blood-pressure correlation.
SYSTOLIC = QUANTITY_PREFIX + "BloodPressureSystolic"
DIASTOLIC = QUANTITY_PREFIX + "BloodPressureDiastolic"
BLOOD_PRESSURE_CORRELATION = "HKCorrelationTypeIdentifierBloodPressure"
FOOD_CORRELATION = "HKCorrelationTypeIdentifierFood"

# Category types stored as a metric point: suffix -> metric (see records.py for values).
CATEGORY_METRICS: dict[str, str] = {
    "AppleStandHour": "apple_stand_hour",
    "MindfulSession": "mindful_minutes",
    "HandwashingEvent": "handwashing",
    "ToothbrushingEvent": "toothbrushing",
    "SexualActivity": "sexual_activity",
}
SLEEP_ANALYSIS = "SleepAnalysis"
# HKCategoryValueSleepAnalysis<suffix> -> the stage names HAE's unaggregated sleep uses.
SLEEP_STAGES = {
    "InBed": "InBed",
    "AsleepUnspecified": "Asleep",
    "Asleep": "Asleep",  # the spelling before iOS 16
    "Awake": "Awake",
    "AsleepCore": "Core",
    "AsleepDeep": "Deep",
    "AsleepREM": "REM",
}
# Heart-rate notifications: suffix -> kind (HAE's ``heartRateNotifications``).
HEART_RATE_NOTIFICATIONS = {
    "HighHeartRateEvent": "high_heart_rate_notification",
    "LowHeartRateEvent": "low_heart_rate_notification",
    "IrregularHeartRhythmEvent": "irregular_rhythm_notification",
}
CYCLE_TRACKING = frozenset(
    {
        "MenstrualFlow",
        "IntermenstrualBleeding",
        "CervicalMucusQuality",
        "OvulationTestResult",
        "PregnancyTestResult",
        "ProgesteroneTestResult",
        "Contraceptive",
        "Lactation",
        "Pregnancy",
        "InfrequentMenstrualCycles",
        "IrregularMenstrualCycles",
        "PersistentIntermenstrualBleeding",
        "ProlongedMenstrualPeriods",
        "BleedingDuringPregnancy",
        "BleedingAfterPregnancy",
    }
)
SYMPTOMS = frozenset(
    {
        "AbdominalCramps",
        "Acne",
        "AppetiteChanges",
        "BladderIncontinence",
        "Bloating",
        "BreastPain",
        "ChestTightnessOrPain",
        "Chills",
        "Constipation",
        "Coughing",
        "Diarrhea",
        "Dizziness",
        "DrySkin",
        "Fainting",
        "Fatigue",
        "Fever",
        "GeneralizedBodyAche",
        "HairLoss",
        "Headache",
        "Heartburn",
        "HotFlashes",
        "LossOfSmell",
        "LossOfTaste",
        "LowerBackPain",
        "MemoryLapse",
        "MoodChanges",
        "Nausea",
        "NightSweats",
        "PelvicPain",
        "RapidPoundingOrFlutteringHeartbeat",
        "RunnyNose",
        "ShortnessOfBreath",
        "SinusCongestion",
        "SkippedHeartbeat",
        "SleepChanges",
        "SoreThroat",
        "VaginalDryness",
        "Vomiting",
        "Wheezing",
    }
)
# Records that are settings, not measurements.
SKIPPED_TYPES = {"HKDataTypeSleepDurationGoal": "sleep duration goal (a setting)"}

_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def snake_case(identifier: str) -> str:
    """``HKQuantityTypeIdentifierUVExposure`` → ``uv_exposure`` (the fallback name)."""
    for prefix in (QUANTITY_PREFIX, CATEGORY_PREFIX, "HKDataType"):
        if identifier.startswith(prefix):
            identifier = identifier[len(prefix) :]
            break
    return _WORD_START.sub("_", identifier).lower()


def words(camel: str) -> str:
    """``TraditionalStrengthTraining`` → ``Traditional Strength Training``."""
    return _WORD_START.sub(" ", camel)


def quantity_metric(identifier: str) -> str:
    """The metric a quantity type is stored under (known name, else snake_case)."""
    suffix = identifier[len(QUANTITY_PREFIX) :]
    return QUANTITY_METRICS.get(suffix) or snake_case(identifier)
